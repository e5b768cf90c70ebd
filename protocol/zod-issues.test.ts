import { expect, test } from '@playwright/test';
import { z } from 'zod';
import { describeIssue, firstIssue, issuePath } from './zod-issues.ts';

const schema = z.strictObject({
  name: z.string().min(1),
  items: z.array(z.strictObject({ rate: z.number().positive().max(100), kind: z.enum(['a', 'b']) })),
});

function messageOf(input: unknown): string {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) throw new Error('expected the input to be refused');
  const { path, message } = firstIssue(result.error);
  return `${path} ${message}`;
}

test('each kind of issue reads as a sentence after its path', () => {
  const good = { name: 'x', items: [{ rate: 1, kind: 'a' }] };
  expect(schema.parse(good)).toEqual(good);
  expect(messageOf({ items: [] })).toBe('name is required');
  expect(messageOf({ name: '', items: [] })).toBe('name must not be empty');
  expect(messageOf({ name: 'x', items: {} })).toBe('items must be an array');
  expect(messageOf({ name: 'x', items: [{ rate: 0, kind: 'a' }] })).toBe('items[0].rate must be > 0');
  expect(messageOf({ name: 'x', items: [{ rate: 101, kind: 'a' }] })).toBe('items[0].rate must be <= 100');
  expect(messageOf({ name: 'x', items: [{ rate: 1, kind: 'c' }] })).toBe(
    'items[0].kind must be one of "a", "b"',
  );
  expect(messageOf({ name: 'x', items: [], colour: 1, size: 2 })).toBe(
    '(root) has unknown keys "colour", "size"',
  );
  expect(messageOf(null)).toBe('(root) must be an object');
});

test('paths and a missing issue', () => {
  expect(issuePath([])).toBe('(root)');
  expect(issuePath(['topics', '/scan', 'expect', 'loss-10', 'deliveryMin'])).toBe(
    'topics./scan.expect.loss-10.deliveryMin',
  );
  expect(issuePath(['walls', 3, 'to'])).toBe('walls[3].to');
  expect(describeIssue(undefined)).toBe('is invalid');
});
