import type { TestInfo } from '@playwright/test';
import type { OtaDrill, OtaDrillResult } from '../ota/index.ts';

/**
 * What the drill's row expects, in words, for a reader of a drill's evidence: `"status": "failure"`
 * in a passing drill reads as a fault unless the expected failure is said beside it.
 */
export function expectedOutcome(drill: OtaDrill): string {
  const { status, ends, states } = drill.expect;
  let why: string;
  if (status === 'success') {
    why = 'the drill expects the update to be installed and committed';
  } else if (status === 'already-installed') {
    why = 'the drill expects the robot to report that it already runs this version';
  } else if (ends === 'old' && states.includes('ArtifactReboot')) {
    why = 'the drill expects the update to fail and roll back';
  } else if (ends === 'old' && states.includes('ArtifactInstall')) {
    why = 'the drill expects the install to be refused, the robot staying on its old software';
  } else if (ends === 'old') {
    why = 'the drill expects the update to be refused before anything is written';
  } else {
    why = `the drill expects this outcome, the robot ending on the ${ends} software`;
  }
  return `${status} — ${why}`;
}

/** The drill's result, with `expected` right after `status`, where the reader looks. */
export function otaDrillEvidence(drill: OtaDrill, result: OtaDrillResult): Record<string, unknown> {
  const evidence: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(result)) {
    evidence[key] = value;
    if (key === 'status') evidence.expected = expectedOutcome(drill);
  }
  return evidence;
}

/** Attaches an OTA drill's result as JSON, its expected outcome said beside its status. */
export async function attachOtaDrill(
  testInfo: TestInfo,
  name: string,
  drill: OtaDrill,
  result: OtaDrillResult,
): Promise<void> {
  await testInfo.attach(name, {
    body: JSON.stringify(otaDrillEvidence(drill, result), null, 2),
    contentType: 'application/json',
  });
}
