import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test, expect } from '@playwright/test';
import { Toxiproxy } from 'toxiproxy-node-client';
import { REPO_ROOT } from '../../core/paths.ts';
import { listeningPorts } from '../../testing/leftovers.ts';
import { listeningSockets } from '../../testing/listening-sockets.ts';
import { connectTo, portOf, startEcho } from './test-helpers.ts';

// `fleetdrill toxiproxy` lives in harness/cli/toxiproxy.ts; its tests sit with the server's.
const BIN = join(REPO_ROOT, 'bin/fleetdrill.js');

function fleetdrill(args: string[]) {
  return spawn(process.execPath, [BIN, 'toxiproxy', ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs the command to completion. */
async function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = fleetdrill(args);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) =>
    child.once('exit', (exitCode) => resolve(exitCode)),
  );
  return { code, stderr };
}

test.describe('fleetdrill toxiproxy', () => {
  let dir: string;
  test.beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleetdrill-toxiproxy-cli-'));
  });
  test.afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('serves the API with the configured proxies and stops cleanly on SIGTERM', async () => {
    const echo = await startEcho();
    const config = join(dir, 'proxies.json');
    writeFileSync(config, JSON.stringify([{ name: 'robot', listen: '127.0.0.1:0', upstream: echo.address }]));
    const child = fleetdrill(['--port', '0', '--config', config, '--seed', '5', '--json']);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const first = JSON.parse((await lines.next()).value as string) as {
        event: string;
        url: string;
        seed: number;
        proxies: Record<string, string>;
      };
      expect(first).toMatchObject({ event: 'toxiproxy', seed: 5 });
      expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const toxiproxy = new Toxiproxy(first.url);
      const proxy = await toxiproxy.get('robot');
      expect(proxy.listen).toBe(first.proxies.robot);
      const client = await connectTo(proxy);
      await client.roundTrip('hello');
      expect(client.received.toString()).toBe('hello');
      const ports = [Number(new URL(first.url).port), portOf(proxy.listen)];

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(JSON.parse((await lines.next()).value as string)).toEqual({
        event: 'stopped',
        signal: 'SIGTERM',
      });
      expect(await listeningPorts(ports)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      await echo.stop();
    }
  });

  test('a bad config file fails with a message naming the file and the field', async () => {
    const config = join(dir, 'proxies.json');
    writeFileSync(config, JSON.stringify([{ name: 'ok', upstream: '127.0.0.1:1' }, { name: 'broken' }]));
    const missing = await run(['--port', '0', '--config', config]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe(`fleetdrill: ${config}: proxies[1]: missing required field: upstream`);

    writeFileSync(config, '{ not json');
    const notJson = await run(['--port', '0', '--config', config]);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain(`${config}: not valid JSON`);

    writeFileSync(config, '{"name": "x"}');
    const notArray = await run(['--port', '0', '--config', config]);
    expect(notArray.code).toBe(2);
    expect(notArray.stderr).toContain(`${config}: must hold a JSON array`);

    const absent = await run(['--port', '0', '--config', join(dir, 'nope.json')]);
    expect(absent.code).toBe(2);
    expect(absent.stderr).toContain('nope.json');

    const badPort = await run(['--port', 'x']);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr.trim()).toBe("fleetdrill: --port must be a whole number from 0 to 65535, got 'x'");
  });

  test('--host beyond loopback listens there and warns, naming the API and the address', async () => {
    const child = fleetdrill(['--host', '0.0.0.0', '--port', '0', '--json']);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const ready = JSON.parse((await lines.next()).value as string) as { url: string };
      const port = Number(new URL(ready.url).port);
      const socket = listeningSockets().find((found) => found.pid === child.pid && found.port === port);
      expect(socket?.address).toBe('0.0.0.0');
      // stderr is its own pipe: its line may arrive after the ready line on stdout.
      await expect
        .poll(() => stderr)
        .toContain(
          'fleetdrill: warning: listening beyond loopback, as asked: the fault layer API on 0.0.0.0 (every interface)',
        );
    } finally {
      child.kill('SIGKILL');
    }
  });
});
