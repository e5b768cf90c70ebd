import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { ConfigError } from '../../core/errors.ts';
import type { QualificationFile, Waiver } from './types.ts';
import { activeWaiver, checkWaivers, loadWaivers, parseWaivers } from './waivers.ts';

const GOOD = `- requirement: HIL-001
  reason: Orin NX thermal throttling, fix in 2.4.1
  owner: alice
  expires: 2026-11-30
- requirement: OTA-003
  reason: "RAUC rollback reports late"
  owner: bob
  expires: "2027-01-15"
`;

function refusal(yamlText: string): string {
  try {
    parseWaivers(yamlText, 'waivers.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the waivers to be refused');
}

const waiver = (requirement: string, expires: string, owner = 'alice'): Waiver => ({
  requirement,
  reason: 'accepted for this release',
  owner,
  expires,
});

test('a waivers file reads into waivers; an empty one waives nothing', () => {
  expect(parseWaivers(GOOD, 'waivers.yaml')).toEqual([
    {
      requirement: 'HIL-001',
      reason: 'Orin NX thermal throttling, fix in 2.4.1',
      owner: 'alice',
      expires: '2026-11-30',
    },
    { requirement: 'OTA-003', reason: 'RAUC rollback reports late', owner: 'bob', expires: '2027-01-15' },
  ]);
  expect(parseWaivers('', 'waivers.yaml')).toEqual([]);
  expect(parseWaivers('[]', 'waivers.yaml')).toEqual([]);
});

test('every field is required and non-empty, and errors name the path and line', () => {
  expect(refusal(GOOD.replace('  owner: bob\n', ''))).toBe('waivers.yaml: [1].owner is required (line 5)');
  expect(refusal(GOOD.replace('owner: alice', 'owner: ""'))).toBe(
    'waivers.yaml: [0].owner must not be empty, got "" (line 3)',
  );
  expect(refusal(GOOD.replace('reason: "RAUC rollback reports late"', 'reason: "  "'))).toContain(
    '[1].reason must not be empty',
  );
  expect(refusal(GOOD.replace('owner: bob', 'owner: bob\n  approved: yes'))).toContain(
    '[1] has unknown key "approved"',
  );
  expect(refusal('requirement: HIL-001\n')).toContain('waivers.yaml: (root) must be a list of waivers');
});

test('expires must be a real calendar date', () => {
  expect(refusal(GOOD.replace('2026-11-30', '2026-02-30'))).toBe(
    'waivers.yaml: [0].expires must be a calendar date YYYY-MM-DD, got "2026-02-30" (line 4)',
  );
  expect(refusal(GOOD.replace('2026-11-30', '30/11/2026'))).toContain('[0].expires must be a calendar date');
  expect(refusal(GOOD.replace('2026-11-30', '2026-13-01'))).toContain('[0].expires must be a calendar date');
  expect(refusal(GOOD.replace('2026-11-30', '20261130'))).toContain(
    '[0].expires must be a string, got 20261130',
  );
  expect(parseWaivers(GOOD.replace('2026-11-30', '2028-02-29'), 'w.yaml')[0]!.expires).toBe('2028-02-29');
});

test('a YAML syntax error names the file and line', () => {
  expect(refusal(GOOD.replace('owner: bob', 'owner: [bob'))).toMatch(
    /^waivers\.yaml:\d+ is not valid YAML: /,
  );
});

test('a waiver holds through the end of its day, UTC, then is returned as expired', () => {
  const waivers = [waiver('HIL-001', '2026-11-30')];
  expect(activeWaiver(waivers, 'HIL-001', new Date('2026-11-30T23:59:59.999Z'))).toEqual({
    waiver: waivers[0],
    expired: false,
  });
  expect(activeWaiver(waivers, 'HIL-001', new Date('2026-12-01T00:00:00.000Z'))).toEqual({
    waiver: waivers[0],
    expired: true,
  });
  // A local time zone must not move the boundary: 23:30 in UTC-2 is already the next day in UTC.
  expect(activeWaiver(waivers, 'HIL-001', new Date('2026-11-30T23:30:00-02:00'))?.expired).toBe(true);
  expect(activeWaiver(waivers, 'OTA-003', new Date('2026-01-01T00:00:00Z'))).toBeUndefined();
});

test('of several waivers for one requirement, the longest lasting one counts', () => {
  const old = waiver('HIL-001', '2026-06-30', 'alice');
  const renewed = waiver('HIL-001', '2026-12-31', 'bob');
  expect(activeWaiver([renewed, old], 'HIL-001', new Date('2026-08-01T00:00:00Z'))).toEqual({
    waiver: renewed,
    expired: false,
  });
  expect(activeWaiver([old, renewed], 'HIL-001', new Date('2027-02-01T00:00:00Z'))).toEqual({
    waiver: renewed,
    expired: true,
  });
});

test('a waiver of a requirement the file does not list is refused by its id', () => {
  const file: QualificationFile = {
    path: 'qualification.yaml',
    suite: { grep: '@release', backends: ['embedded'] },
    sources: {},
    requirements: [
      {
        id: 'HIL-001',
        title: 'p99',
        severity: 'blocker',
        area: 'hil',
        evidence: [{ drills: { tag: '@hil' } }],
      },
    ],
  };
  expect(() => checkWaivers([waiver('HIL-001', '2026-11-30')], file)).not.toThrow();
  expect(() =>
    checkWaivers([waiver('HIL-001', '2026-11-30'), waiver('HIL-010', '2026-11-30')], file, 'waivers.yaml'),
  ).toThrow('waivers.yaml: [1].requirement names HIL-010, which qualification.yaml does not list');
});

test('loading reads the file, and a missing one names its path', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetdrill-waivers-'));
  try {
    const path = join(dir, 'waivers.yaml');
    await writeFile(path, GOOD);
    expect(await loadWaivers(path)).toHaveLength(2);
    await expect(loadWaivers(join(dir, 'none.yaml'))).rejects.toThrow(
      `${join(dir, 'none.yaml')} cannot be read`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
