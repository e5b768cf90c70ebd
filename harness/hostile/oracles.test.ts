import { expect, test } from '@playwright/test';
import { ConfigError } from '../core/errors.ts';
import { expectIntact, judgeLoaderError, judgeStatus } from './oracles.ts';
import { OracleViolation } from './violation.ts';

const DOCUMENTED = new Set([200, 400, 404]);

test('a documented status is the outcome; a 5xx or an undocumented status is a violation', () => {
  expect(judgeStatus(400, DOCUMENTED, 'POST /x')).toBe('400');
  expect(() => judgeStatus(500, DOCUMENTED, 'POST /x')).toThrow(OracleViolation);
  expect(() => judgeStatus(503, DOCUMENTED, 'POST /x')).toThrow('POST /x: answered 503, a server error');
  expect(() => judgeStatus(418, DOCUMENTED, 'GET /y')).toThrow(
    'GET /y: answered 418, which the API does not document (200, 400, 404)',
  );
});

test('stored data that lost a record, gained one or changed a byte is a violation naming where', () => {
  const records = [
    { seq: 1, data: { x: 1 } },
    { seq: 2, data: { x: 2 } },
  ];
  expect(() => expectIntact('records', records, structuredClone(records))).not.toThrow();
  expect(() => expectIntact('records', records, records.slice(0, 1))).toThrow(
    'records changed under fuzzing: list: 2 items before, 1 after',
  );
  const changed = structuredClone(records);
  changed[1]!.data.x = 3;
  expect(() => expectIntact('records', { records }, { records: changed })).toThrow('records[1].data.x');
  const bytes = Buffer.from('MCAP file bytes');
  const flipped = Buffer.from(bytes);
  flipped[5] = 0;
  expect(() => expectIntact('blackbox', bytes, flipped)).toThrow(
    'blackbox changed under fuzzing: bytes at byte 5',
  );
  expect(() => expectIntact('blackbox', bytes, bytes.subarray(0, 4))).toThrow('15 bytes before, 4 after');
});

test("a loader's refusal must be its own error, naming the file and the field, without a stack", () => {
  const rules = { source: 'world.json', names: ['world.json'], expected: [ConfigError] };
  expect(judgeLoaderError(new ConfigError('world.json: dock.radius', 'must be > 0'), rules)).toBe(
    'refused (ConfigError)',
  );
  expect(() =>
    judgeLoaderError(new TypeError("Cannot read properties of undefined (reading 'x')"), rules),
  ).toThrow('world.json: the loader crashed with TypeError');
  expect(() => judgeLoaderError('a string', rules)).toThrow('threw a non-error');
  expect(() => judgeLoaderError(new ConfigError('dock.radius', 'must be > 0'), rules)).toThrow(
    'the error does not say what it loaded',
  );
  const withStack = new ConfigError('world.json', `failed\n    at parse (world.ts:1:1)`);
  expect(() => judgeLoaderError(withStack, rules)).toThrow('carries a stack trace');
  const vague = new ConfigError('world.json', 'is invalid');
  expect(() => judgeLoaderError(vague, { ...rules, fields: ['dock', 'radius'] })).toThrow(
    'the error names none of dock.radius, the field broken',
  );
  expect(
    judgeLoaderError(new ConfigError('world.json: dock', 'is invalid'), {
      ...rules,
      fields: ['dock', 'radius'],
    }),
  ).toBe('refused (ConfigError)');
});
