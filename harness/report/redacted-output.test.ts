import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type TestInfo } from '@playwright/test';
import { isTextAttachment, redactAttachment, redactStdio, redactTestOutput } from './redacted-output.ts';

const SECRET = 'k7Qe3LmZ0pWx';
const hide = (text: string) => text.replaceAll(SECRET, '[redacted: token]');

test.describe('redacted output', () => {
  test('text bodies are redacted, binary bodies pass untouched', async () => {
    expect(await redactAttachment({ body: `a ${SECRET}` }, hide)).toEqual({ body: 'a [redacted: token]' });
    const json = await redactAttachment(
      { body: Buffer.from(`{"t":"${SECRET}"}`), contentType: 'application/json' },
      hide,
    );
    expect(json.body?.toString()).toBe('{"t":"[redacted: token]"}');
    const png = Buffer.from(`\x89PNG${SECRET}`, 'latin1');
    expect(await redactAttachment({ body: png, contentType: 'image/png' }, hide)).toEqual({
      body: png,
      contentType: 'image/png',
    });
    expect(isTextAttachment('image/svg+xml')).toBe(true);
    expect(isTextAttachment('application/vnd.fleetdrill.figure+json')).toBe(true);
    expect(isTextAttachment('application/octet-stream', 'robot.log')).toBe(true);
    expect(isTextAttachment(undefined, 'blackbox.mcap')).toBe(false);
  });

  test('a text file with a secret is attached as a redacted body, a clean one by path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'redacted-output-'));
    try {
      const leaky = join(dir, 'id_ed25519.log');
      const clean = join(dir, 'clean.txt');
      await writeFile(leaky, `key ${SECRET}\n`);
      await writeFile(clean, 'nothing here\n');
      expect(await redactAttachment({ path: leaky }, hide)).toEqual({
        body: 'key [redacted: token]\n',
        contentType: 'text/plain',
      });
      expect(await redactAttachment({ path: clean }, hide)).toEqual({ path: clean });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('testInfo.attach and test.info().attach go through redaction; annotations too', async ({}, testInfo) => {
    const output = redactTestOutput(testInfo, hide);
    await testInfo.attach('direct', { body: `one ${SECRET}` });
    await test.info().attach('through test.info()', { body: `two ${SECRET}`, contentType: 'text/plain' });
    testInfo.annotations.push({ type: 'kpi', description: `token ${SECRET}` });
    output.finish();
    expect(testInfo.attachments.map((a) => a.body?.toString())).toEqual([
      'one [redacted: token]',
      'two [redacted: token]',
    ]);
    expect(testInfo.annotations.at(-1)?.description).toBe('token [redacted: token]');
  });

  test('errors are redacted in place when the test ends', () => {
    const errors = [
      { message: `robot r01 died\n${SECRET}`, stack: `Error: ${SECRET}\n at x`, value: SECRET },
    ];
    const info = { attach: async () => {}, annotations: [], errors } as unknown as TestInfo;
    redactTestOutput(info, hide).finish();
    expect(errors).toEqual([
      {
        message: 'robot r01 died\n[redacted: token]',
        stack: 'Error: [redacted: token]\n at x',
        value: '[redacted: token]',
      },
    ]);
  });

  test('stdout and stderr chunks are redacted until restored', () => {
    const seen: string[] = [];
    const streams = [process.stdout, process.stderr];
    const own = streams.map((stream) => Object.getOwnPropertyDescriptor(stream, 'write'));
    const capture = (chunk: string | Uint8Array) => seen.push(Buffer.from(chunk).toString()) > 0;
    for (const stream of streams) stream.write = capture;
    try {
      const restore = redactStdio(hide);
      process.stdout.write(`out ${SECRET}\n`);
      process.stderr.write(Buffer.from(`err ${SECRET}\n`));
      restore();
      process.stdout.write(`after ${SECRET}\n`);
    } finally {
      streams.forEach((stream, i) => {
        const descriptor = own[i];
        if (descriptor) Object.defineProperty(stream, 'write', descriptor);
        else delete (stream as { write?: unknown }).write;
      });
    }
    expect(seen).toEqual(['out [redacted: token]\n', 'err [redacted: token]\n', `after ${SECRET}\n`]);
  });
});
