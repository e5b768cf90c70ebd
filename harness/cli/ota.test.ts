/*
 * `fleetdrill ota fuzz` as a user meets it: which client it cuts when the flag is left out (the
 * config's `ota.client`, as `up` reads it), and the last line it prints, which says what a cut
 * here is. One real run of one cut shows the line as printed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { runFleetdrill as fleetdrill } from '../testing/run-cli.ts';
import type { OtaFuzzResult } from '../ota/fuzz.ts';
import { fuzzSummaryLine, parseOtaFuzzFlags } from './ota.ts';
import { parseUpFlags } from './up.ts';

const FLAGS = { cuts: '16', robots: '2', seed: '7' };

test.describe('ota fuzz: whose updates it cuts', () => {
  let dir: string;
  // Numbers the files a test writes: no random choice outside the run's seed, even for a name.
  let written = 0;
  /** A config file holding `config`, named the way a user names one. */
  const configFile = (config: object): string => {
    const file = join(dir, `${Object.keys(config).join('-') || 'empty'}-${++written}.json`);
    writeFileSync(file, JSON.stringify(config));
    return file;
  };
  test.beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleetdrill-ota-fuzz-cli-'));
  });
  test.afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("without --ota-client, the config's ota.client; with it, the flag; with neither, fleetdrill", () => {
    const rauc = { FLEETDRILL_CONFIG: configFile({ ota: { client: 'rauc' } }) };
    expect(parseOtaFuzzFlags(FLAGS, rauc).otaClient).toBe('rauc');
    expect(parseOtaFuzzFlags({ ...FLAGS, otaClient: 'mender' }, rauc).otaClient).toBe('mender');
    // The environment overrides the file, as for the workers of `fleetdrill run`.
    expect(parseOtaFuzzFlags(FLAGS, { ...rauc, FLEETDRILL_OTA_CLIENT: 'swupdate' }).otaClient).toBe(
      'swupdate',
    );
    expect(parseOtaFuzzFlags(FLAGS, { FLEETDRILL_CONFIG: configFile({}) }).otaClient).toBe('fleetdrill');
  });

  test('a bad ota.client in the config is named; a flag does not need the config', () => {
    const bad = { FLEETDRILL_CONFIG: configFile({ ota: { client: 'opkg' } }) };
    expect(() => parseOtaFuzzFlags(FLAGS, bad)).toThrow(/^ota\.client must be one of /);
    expect(parseOtaFuzzFlags({ ...FLAGS, otaClient: 'rauc' }, bad).otaClient).toBe('rauc');
  });

  test('up resolves the client from the same config the same way', () => {
    const before = process.env.FLEETDRILL_CONFIG;
    process.env.FLEETDRILL_CONFIG = configFile({ ota: { client: 'swupdate' } });
    try {
      const up = { robots: '1', rtf: '1', backend: 'embedded', world: 'empty', seed: '7' };
      expect(parseUpFlags(up).otaClient).toBe('swupdate');
      expect(parseOtaFuzzFlags(FLAGS).otaClient).toBe('swupdate');
      expect(parseUpFlags({ ...up, otaClient: 'rauc' }).otaClient).toBe('rauc');
    } finally {
      if (before === undefined) delete process.env.FLEETDRILL_CONFIG;
      else process.env.FLEETDRILL_CONFIG = before;
    }
  });

  test('the command itself reads the config: a bad ota.client there stops it before any fleet', async () => {
    const result = await fleetdrill(['ota', 'fuzz', '--cuts', '1'], {
      FLEETDRILL_CONFIG: configFile({ ota: { client: 'opkg' } }),
    });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('fleetdrill: ota.client must be one of');
  });
});

test.describe('ota fuzz: the summary line', () => {
  const result: OtaFuzzResult = {
    verdict: 'pass',
    cuts: 16,
    bricked: 0,
    unverified_boots: 0,
    invalid_envs: 0,
    converged: 7,
    updates: 7,
    committed: 5,
    failures_reported: 2,
    inconclusive: 0,
    cuts_by: { time: 5, bytes: 6, state: 5 },
    sequences: {},
    cut_outcomes: [],
    ota_client: 'swupdate',
    power_loss: 'SIGKILL',
    seed: 7,
    robots: 2,
    ms: 34_000,
    cuts_per_min: 28.2,
    problems: [],
    could_not_tell: [],
  };

  test('says the verdict, the client, the counts and that a cut kept the page cache', () => {
    const line = fuzzSummaryLine(result);
    expect(line).toMatch(/^PASS: 16 cuts of the swupdate client \(5 by time, 6 by bytes, 5 at a state\)/);
    expect(line).toContain('0 bricked, 0 unverified boots, 0 invalid environments');
    expect(line).toContain('7 of 7 updates converged');
    expect(line).toMatch(/SIGKILL, which keeps the page cache/);
  });

  test('as `fleetdrill ota fuzz` prints it, last on stdout', async () => {
    test.setTimeout(90_000);
    const run = await fleetdrill(['ota', 'fuzz', '--cuts', '1', '--robots', '1', '--seed', '7']);
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    const last = run.stdout.trim().split('\n').at(-1) ?? '';
    expect(last).toMatch(/^PASS: 1 cuts of the fleetdrill client/);
    expect(last).toContain('SIGKILL');
    expect(last).toContain('page cache');
  });
});
