import { expect, test } from '@playwright/test';
import {
  POWER_CUT_DRILLS,
  REAL_CLIENT_DRILLS,
  REFUSED_DRILLS,
  VARIANT_DRILLS,
} from '../../scenarios/ota-tables.ts';
import type { DiskState, OtaDrill, OtaDrillResult } from '../ota/index.ts';
import { attachOtaDrill, expectedOutcome, otaDrillEvidence } from './ota-evidence.ts';

const rolledBack = VARIANT_DRILLS.find(
  (drill) => drill.name === 'software failing its self-test is rolled back',
)!;

function resultOf(drill: OtaDrill, status: OtaDrillResult['status']): OtaDrillResult {
  const disk = { activeVersion: '1.0.3' } as unknown as DiskState;
  return {
    drill: drill.name,
    robot: 'r01',
    fromVersion: '1.0.3',
    deployedVersion: '1.0.4',
    deploymentId: 'd-17',
    states: [...drill.expect.states],
    status,
    message: 'self-test failed: /odom silent for 5 s',
    before: disk,
    after: disk,
    runningVersion: '1.0.3',
    rebooted: true,
    bytesFetched: 0,
    ms: 8_412,
    problems: [],
  };
}

test('a drill that expects a rollback says so beside its failure status', async ({}, testInfo) => {
  await attachOtaDrill(testInfo, 'ota drill', rolledBack, resultOf(rolledBack, 'failure'));
  const body = testInfo.attachments.find((attachment) => attachment.name === 'ota drill')!.body!.toString();
  expect(body).toContain(
    '"status": "failure",\n  "expected": "failure — the drill expects the update to fail and roll back",',
  );
});

test('every row of the drill tables gets its own expected outcome, led by its expected status', () => {
  const rows = [...VARIANT_DRILLS, ...REFUSED_DRILLS, ...POWER_CUT_DRILLS, ...REAL_CLIENT_DRILLS];
  for (const drill of rows) {
    const said = expectedOutcome(drill);
    expect(said, drill.name).toMatch(new RegExp(`^${drill.expect.status} — the drill expects `));
    expect(said, drill.name).not.toContain('this outcome');
  }
  const refused = REFUSED_DRILLS[0]!;
  expect(expectedOutcome(refused)).not.toContain('roll back');
  expect(expectedOutcome(VARIANT_DRILLS[0]!)).toBe(
    'success — the drill expects the update to be installed and committed',
  );
});

test('the expectation is the row’s, not the outcome’s: an unexpected success still reads what was expected', () => {
  const evidence = otaDrillEvidence(rolledBack, resultOf(rolledBack, 'success'));
  expect(evidence.status).toBe('success');
  expect(evidence.expected).toBe('failure — the drill expects the update to fail and roll back');
  expect(Object.keys(evidence).indexOf('expected')).toBe(Object.keys(evidence).indexOf('status') + 1);
});
