/*
 * Power-cut fuzzing through the CLI, as a user runs it: `fleetdrill ota fuzz --cuts N --json`,
 * judged by its last line, for each OTA client. The quick runs (16 cuts per client) are part of
 * `npm test`; the nightly ones cut 100 times per client.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import {
  attachFuzzOutcomes,
  expect,
  realClientsAvailability,
  test,
  type FuzzOutcomesSource,
  type OtaClientName,
} from '../harness/index.ts';

const CLI = join(import.meta.dirname, '..', 'bin', 'fleetdrill.js');

interface FuzzSummary extends FuzzOutcomesSource {
  verdict: 'pass' | 'fail' | 'inconclusive';
  cuts: number;
  cuts_by: { time: number; bytes: number; state: number };
  power_loss: string;
  bricked: number;
  unverified_boots: number;
  invalid_envs: number;
  converged: number;
  updates: number;
  cuts_per_min: number;
  problems: string[];
  could_not_tell: string[];
}

/** Runs the fuzz CLI with the run's seed; resolves with its summary line and its stderr. */
function fuzz(
  cuts: number,
  seed: number,
  client: OtaClientName,
  timeoutMs: number,
): Promise<{ summary: FuzzSummary; log: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI, 'ota', 'fuzz', '--cuts', String(cuts), '--seed', String(seed), '--ota-client', client, '--json'],
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const last = stdout.trim().split('\n').at(-1) ?? '';
        try {
          resolve({ summary: JSON.parse(last) as FuzzSummary, log: stderr });
        } catch {
          reject(
            new Error(`fuzz printed no summary (${error?.message ?? 'exit 0'}):\n${stderr.slice(-4000)}`),
          );
        }
      },
    );
  });
}

const available = realClientsAvailability();

/**
 * How long a fuzz of `cuts` may take, in whole milliseconds: 2 minutes for the fleet and the
 * artifacts, then 8 s a cut, a quarter of the rate the real clients are held to in `npm run bench`
 * (30 a minute), so a busy machine is not a failure. 16 cuts: about 4 minutes; 100: about 15.
 */
const fuzzTimeoutMs = (cuts: number) => (120 + cuts * 8) * 1000;

// fleetdrill's own client, and the real ones fleets ship (Mender, RAUC, SWUpdate) on real disks.
const CLIENTS = ['fleetdrill', 'mender', 'rauc', 'swupdate'] as const satisfies readonly OtaClientName[];
const RUNS = [
  { cuts: 16, tag: '@ota' },
  { cuts: 100, tag: '@ota-nightly' },
] as const;

for (const { cuts, tag } of RUNS) {
  for (const client of CLIENTS) {
    const who = client === 'fleetdrill' ? '' : ` with ${client}`;
    const timeoutMs = fuzzTimeoutMs(cuts);
    test.describe(`OTA power-cut fuzzing${who}, ${cuts} cuts`, { tag: [tag, '@nightly'] }, () => {
      if (client !== 'fleetdrill') {
        test.skip(!available.ok, available.ok ? '' : `real OTA clients: ${available.reason}`);
      }
      test(`${cuts} power cuts across whole updates${who}: nothing bricked, nothing unverified boots, every update converges`, async ({
        seed,
      }) => {
        // Half a minute past the fuzz's own limit, to read what it printed when it hits it.
        test.setTimeout(timeoutMs + 30_000);
        const { summary, log } = await fuzz(cuts, seed, client, timeoutMs);
        await test.info().attach('fuzz log', { body: log, contentType: 'text/plain' });
        await test.info().attach('fuzz summary', {
          body: JSON.stringify(summary, null, 2),
          contentType: 'application/json',
        });
        await attachFuzzOutcomes(test.info(), summary);
        test.info().annotations.push({
          type: 'kpi',
          description: `cuts=${summary.cuts} updates=${summary.updates} cuts_per_min=${summary.cuts_per_min}`,
        });
        expect(summary.problems).toEqual([]);
        expect(summary.ota_client, 'the client asked for is the one cut').toBe(client);
        expect(summary.cuts).toBe(cuts);
        // Every kind of cut in every run: each robot draws its kinds from a shuffled bag.
        expect(summary.cuts_by.time, 'cuts by time').toBeGreaterThan(0);
        expect(summary.cuts_by.bytes, 'cuts by bytes').toBeGreaterThan(0);
        expect(summary.cuts_by.state, 'cuts at a state').toBeGreaterThan(0);
        // What a cut here is, said with every result: SIGKILL keeps the page cache.
        expect(summary.power_loss).toMatch(/SIGKILL/);
        expect(summary.power_loss).toMatch(/page cache/);
        expect(summary.bricked).toBe(0);
        expect(summary.unverified_boots).toBe(0);
        expect(summary.invalid_envs).toBe(0);
        // Not a product failure: the robots did not answer in time (a busy machine); not a pass
        // either. Nothing wrong was found above, so the drill skips, saying what it could not tell.
        test.skip(
          summary.could_not_tell.length > 0,
          `could not tell: ${summary.could_not_tell.slice(0, 5).join('; ')}`,
        );
        expect(summary.verdict).toBe('pass');
        // One outcome per cut taken, as the chart counts them: none made up, none lost.
        expect(summary.cut_outcomes.filter((entry) => entry.point !== 'update end')).toHaveLength(cuts);
        expect(summary.converged).toBe(summary.updates);
        expect(summary.updates).toBeGreaterThan(0);
      });
    });
  }
}
