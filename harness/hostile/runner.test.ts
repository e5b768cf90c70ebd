import { expect, test } from '@playwright/test';
import fc from 'fast-check';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../core/errors.ts';
import { exchange, type HttpInput } from './http.ts';
import { expectIntact, judgeStatus } from './oracles.ts';
import { fuzzKpi } from './report.ts';
import { runFuzz, type FuzzTarget, type StartedFuzzTarget } from './runner.ts';
import { fuzzRuns } from './runs.ts';
import { loaderTarget } from './targets/loader-target.ts';
import { CloudUnderFuzz, KEPT_ROBOT } from './targets/cloud-under-fuzz.ts';

/** A target over an HTTP server that answers `status(body)`; the inputs are small JSON bodies. */
function httpTarget(
  name: string,
  status: (body: string) => number,
  documented = new Set([200, 400]),
): FuzzTarget<HttpInput> {
  return {
    name,
    async start() {
      const server: Server = createServer((req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          const answer = status(body);
          // Below zero: drop the connection unanswered, as a crashed server would.
          if (answer < 0) req.socket.destroy();
          else res.writeHead(answer).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
      const started: StartedFuzzTarget<HttpInput> = {
        inputs: fc
          .integer({ min: 0, max: 99 })
          .map((n) => ({ method: 'POST', path: '/', body: Buffer.from(String(n)) })),
        send: async (input) =>
          judgeStatus((await exchange(url, input)).status, documented, `POST / ${String(input.body)}`),
        check: async () => {},
        stop,
        [Symbol.asyncDispose]: stop,
      };
      return started;
    },
  };
}

test('a server that answers 500 to some input fails the run, and the same seed finds the same input', async () => {
  const target = httpTarget('answers-500', (body) =>
    Number(body) % 17 === 3 ? 500 : Number(body) % 2 ? 400 : 200,
  );
  const first = await runFuzz(target, { runSeed: 7, runs: 200 });
  expect(first.violation?.message).toMatch(/^POST \/ \d+: answered 500, a server error$/);
  expect(first.serverErrors).toBe(1);
  expect(first.sent).toBeLessThan(200);
  const again = await runFuzz(target, { runSeed: 7, runs: 200 });
  expect(again.violation).toEqual(first.violation);
  expect(again.outcomes).toEqual(first.outcomes);
  expect(fuzzKpi(first)).toMatch(/^fuzz_answers-500 inputs=\d+ 200=\d+ 400=\d+ 5xx=1 violations=1$/);
});

test('a server that answers only documented statuses passes, with every input counted', async () => {
  const report = await runFuzz(
    httpTarget('answers-4xx', (body) => (Number(body) % 2 ? 400 : 200)),
    {
      runSeed: 7,
      runs: 50,
    },
  );
  expect(report.violation).toBeUndefined();
  expect(report.sent).toBe(50);
  expect((report.outcomes['200'] ?? 0) + (report.outcomes['400'] ?? 0)).toBe(50);
});

test('a server that stops answering (its process gone, the connection dropped) is a violation: no answer', async () => {
  const report = await runFuzz(
    httpTarget('dies', (body) => (Number(body) > 90 ? -1 : 200)),
    { runSeed: 1, runs: 300 },
  );
  expect(report.violation?.message).toMatch(/^POST \/ \(\d+ bytes\): no answer \(socket hang up\)$/);
});

test('a store that loses a record under fuzzing fails the check after the inputs', async () => {
  const store = new Map([
    [1, 'a'],
    [2, 'b'],
    [3, 'c'],
  ]);
  const target: FuzzTarget<number> = {
    name: 'leaky-store',
    start() {
      const before = [...store];
      const stop = () => Promise.resolve();
      return Promise.resolve({
        inputs: fc.integer({ min: 1, max: 50 }),
        send(n) {
          if (n === 2) store.delete(2);
          return Promise.resolve('ok');
        },
        check: () => Promise.resolve(expectIntact('the store', before, [...store])),
        stop,
        [Symbol.asyncDispose]: stop,
      });
    },
  };
  const report = await runFuzz(target, { runSeed: 3, runs: 300 });
  expect(report.violation?.message).toBe('the store changed under fuzzing: list: 3 items before, 2 after');
});

test('a loader that throws a TypeError is a violation naming it', async () => {
  const target = loaderTarget({
    name: 'fragile-loader',
    fileName: 'fragile.json',
    valid: () => ({ name: 'x', size: 3 }),
    load: (path) => {
      throw new TypeError(`cannot read ${path}.size`);
    },
    expected: [ConfigError],
  });
  const report = await runFuzz(target, { runSeed: 5, runs: 20 });
  expect(report.violation?.message).toMatch(
    /^fragile\.json: the loader crashed with TypeError: cannot read .*fragile\.json\.size$/,
  );
});

test("the cloud's check fires when the kept robot's records change", async () => {
  const under = await CloudUnderFuzz.start();
  try {
    await under.check();
    const extra = { bootId: 'b1', seq: 99, tier: 'metrics', name: 'robot', capturedAt: 1, data: {} };
    const answer = await under.send({
      method: 'POST',
      path: '/v1/telemetry',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ robotId: KEPT_ROBOT, records: [extra] })),
    });
    expect(answer.status).toBe(200);
    await expect(under.check()).rejects.toThrow(`robot ${KEPT_ROBOT}'s records changed under fuzzing`);
  } finally {
    await under.stop();
  }
});

test('FLEETDRILL_FUZZ_RUNS sets the inputs per target; 500 without it', () => {
  expect(fuzzRuns({})).toBe(500);
  expect(fuzzRuns({ FLEETDRILL_FUZZ_RUNS: '10000' })).toBe(10_000);
  expect(() => fuzzRuns({ FLEETDRILL_FUZZ_RUNS: 'lots' })).toThrow(
    "FLEETDRILL_FUZZ_RUNS must be a whole number from 1 to 9999999, got 'lots'",
  );
  expect(() => fuzzRuns({ FLEETDRILL_FUZZ_RUNS: '0' })).toThrow(ConfigError);
});
