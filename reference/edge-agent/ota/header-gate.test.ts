/* The header gate inside a real download from a loopback server: when its check runs, what is on disk then, and that a refusal stops the download there. */
import { expect, test as base } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeArtifactHeader } from '../../../protocol/artifact.ts';
import { downloadOnce } from './download.ts';
import { HeaderGate } from './header-gate.ts';
import { payloadOf, sha256 } from './test-support.ts';

// 2 MiB of payload: the header and the first payload bytes arrive in one chunk.
const PAYLOAD = payloadOf('gate', 2 * 1024 * 1024);
const HEADER = encodeArtifactHeader({
  manifest: {
    format: 1,
    name: 'robot-sim',
    version: '1.0.1',
    compatibleModels: ['fd-amr-1'],
    payload: { size: PAYLOAD.length, sha256: sha256(PAYLOAD) },
  },
  // The gate only finds where the header ends; whether it is signed well is its check's business.
  signature: Buffer.alloc(64).toString('base64'),
  keyId: '0123456789abcdef',
});
const ARTIFACT = Buffer.concat([HEADER, PAYLOAD]);

const test = base.extend<{ dir: string; server: { url: string; requests: number; body: Buffer } }>({
  dir: async ({}, use) => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetdrill-gate-'));
    await use(dir);
    rmSync(dir, { recursive: true, force: true });
  },
  server: async ({}, use) => {
    const state = { url: '', requests: 0, body: ARTIFACT };
    const http = createServer((req, res) => {
      state.requests++;
      const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
      res.writeHead(start > 0 ? 206 : 200, {
        'content-length': state.body.length - start,
        ...(start > 0
          ? { 'content-range': `bytes ${start}-${state.body.length - 1}/${state.body.length}` }
          : {}),
      });
      res.end(state.body.subarray(start));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    state.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/artifact`;
    await use(state);
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  },
});

/** A gate whose check records the file's length each time it runs, and throws `refusal` if given. */
function recordingGate(refusal?: Error): { gate: HeaderGate; sizes: number[] } {
  const sizes: number[] = [];
  const gate = new HeaderGate(async (path) => {
    sizes.push((await stat(path)).size);
    if (refusal) throw refusal;
  });
  return { gate, sizes };
}

function attempt(url: string, dest: string, gate: HeaderGate, size = ARTIFACT.length) {
  return {
    url,
    robotId: 'r01',
    dest,
    size,
    idleTimeoutMs: 5_000,
    signal: new AbortController().signal,
    gate,
  };
}

test('the check runs once, on a file that ends at the header, and the download then goes on', async ({
  dir,
  server,
}) => {
  const dest = join(dir, 'a.artifact');
  const { gate, sizes } = recordingGate();
  expect(await downloadOnce(attempt(server.url, dest, gate))).toBe(sha256(ARTIFACT));
  expect(sizes).toEqual([HEADER.length]);
  expect(gate.passed).toBe(true);
  expect((await readFile(dest)).equals(ARTIFACT)).toBe(true);
});

test('a refusal ends the download with its error, no payload byte on the disk', async ({ dir, server }) => {
  const dest = join(dir, 'a.artifact');
  const { gate } = recordingGate(new Error('signed by key 0123456789abcdef, which is not trusted'));
  await expect(downloadOnce(attempt(server.url, dest, gate))).rejects.toThrow(
    /^signed by key .* not trusted$/,
  );
  expect((await stat(dest)).size).toBe(HEADER.length);
  expect(gate.passed).toBe(false);
});

test('a resumed file that already holds the header is checked before any request', async ({
  dir,
  server,
}) => {
  const dest = join(dir, 'a.artifact');
  await writeFile(dest, ARTIFACT.subarray(0, HEADER.length + 1000));
  const { gate, sizes } = recordingGate(new Error('refused'));
  await expect(downloadOnce(attempt(server.url, dest, gate))).rejects.toThrow('refused');
  expect(sizes).toEqual([HEADER.length + 1000]);
  expect(server.requests).toBe(0);
});

test('a preamble that cannot start a header is checked at once, at its 12 bytes', async ({ dir, server }) => {
  server.body = Buffer.concat([Buffer.from('NOTFDART'), Buffer.alloc(4, 0xff), PAYLOAD]);
  const dest = join(dir, 'a.artifact');
  const { gate, sizes } = recordingGate(new Error('bad magic'));
  await expect(downloadOnce(attempt(server.url, dest, gate, server.body.length))).rejects.toThrow(
    'bad magic',
  );
  expect(sizes).toEqual([12]);
});
