import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import type { TestResult, TestStep } from '@playwright/test/reporter';
import { registerSecret } from '../core/secrets.ts';
import RedactingReporter, { redactAttachmentFiles, redactResult } from './redacting-reporter.ts';

const SECRET = 'Qm4vT9xLr2Ps';
const hide = (text: string) => text.replaceAll(SECRET, '[redacted: token]');

test('a result is redacted in place: errors and their causes, output, annotations, text attachments', () => {
  const error = {
    message: `expected ${SECRET}`,
    stack: `Error: ${SECRET}`,
    cause: { message: `cause ${SECRET}` },
  };
  const png = Buffer.from(`PNG${SECRET}`);
  const result = {
    error,
    errors: [error, { message: `second ${SECRET}`, snippet: `> ${SECRET}` }],
    stdout: [`out ${SECRET}\n`, Buffer.from(`buffer ${SECRET}`)],
    stderr: [`err ${SECRET}`],
    annotations: [{ type: 'kpi', description: `t=${SECRET}` }, { type: 'slow' }],
    attachments: [
      { name: 'log', contentType: 'text/plain', body: Buffer.from(`log ${SECRET}`) },
      { name: 'shot', contentType: 'image/png', body: png },
      { name: 'file', contentType: 'text/plain', path: '/tmp/x.txt' },
    ],
  } as unknown as TestResult;
  redactResult(result, hide);
  expect(result.errors).toEqual([
    {
      message: 'expected [redacted: token]',
      stack: 'Error: [redacted: token]',
      cause: { message: 'cause [redacted: token]' },
    },
    { message: 'second [redacted: token]', snippet: '> [redacted: token]' },
  ]);
  expect(result.error).toBe(result.errors[0]);
  expect(result.stdout.map(String)).toEqual(['out [redacted: token]\n', 'buffer [redacted: token]']);
  expect(result.stderr).toEqual(['err [redacted: token]']);
  expect(result.annotations).toEqual([{ type: 'kpi', description: 't=[redacted: token]' }, { type: 'slow' }]);
  expect(result.attachments[0]!.body!.toString()).toBe('log [redacted: token]');
  expect(result.attachments[1]!.body).toBe(png);
  expect(result.attachments[2]).toEqual({ name: 'file', contentType: 'text/plain', path: '/tmp/x.txt' });
});

test("text files attached under the output dir are redacted in place; others are not the run's", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'redacting-reporter-'));
  try {
    const output = join(dir, 'test-results');
    const inside = join(output, 'x-unit', 'error-context.md');
    const outside = join(dir, 'user-file.txt');
    await writeFile(outside, `keep ${SECRET}`);
    await mkdir(join(output, 'x-unit'), { recursive: true });
    await writeFile(inside, `# Error\n${SECRET}\n`);
    const result = {
      attachments: [
        { name: 'error-context', contentType: 'text/markdown', path: inside },
        { name: 'user', contentType: 'text/plain', path: outside },
        { name: 'gone', contentType: 'text/plain', path: join(output, 'y-unit', 'removed.txt') },
      ],
    } as unknown as TestResult;
    redactAttachmentFiles(result, output, hide);
    expect(await readFile(inside, 'utf8')).toBe('# Error\n[redacted: token]\n');
    expect(await readFile(outside, 'utf8')).toBe(`keep ${SECRET}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a step's error and text attachments are redacted when the step ends", () => {
  const step = {
    error: { message: `step ${SECRET}` },
    attachments: [{ name: 'log', contentType: 'text/plain', body: Buffer.from(`log ${SECRET}`) }],
  } as unknown as TestStep;
  // The reporter redacts with this process's known secrets, as it does in the runner.
  registerSecret(SECRET, 'token');
  new RedactingReporter().onStepEnd(undefined, {} as TestResult, step);
  expect(step.error?.message).toBe('step [redacted: token]');
  expect(step.attachments[0]!.body!.toString()).toBe('log [redacted: token]');
});
