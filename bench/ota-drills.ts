/**
 * The OTA figures that need a whole robot: how long a bad image takes to be rolled back, and how
 * many power cuts a minute the fuzzer gets through.
 */
import { Fleet } from '../harness/fleet/index.ts';
import { provisionRobots } from '../harness/ota/index.ts';
import { runOtaFuzz } from '../harness/ota/fuzz.ts';
import type { OtaClientName } from '../protocol/disk-layout.ts';
import { buildRobotVariant, inspectDisk, nextPatch, type RobotVariant } from '../harness/ota/index.ts';

/**
 * Seconds from the reboot into a bad image (its ArtifactReboot report) to the failure report,
 * which the agent sends once the old slot's software runs again; for one robot of its own fleet.
 */
export async function otaRollbackSeconds(seed: number, variant: RobotVariant): Promise<number> {
  const fleet = await new Fleet({ robots: 1, seed, world: 'empty', provision: provisionRobots() }).start();
  try {
    const robot = fleet.robot('r01');
    const from = (await inspectDisk(robot.diskPath)).activeVersion;
    const built = await buildRobotVariant({ variant, version: nextPatch(from) });
    const artifact = await fleet.ota.upload(built.path);
    const deployment = await fleet.ota.deploy({ artifactId: artifact.id, robots: [robot.id] });
    const done = await fleet.ota.waitUntilFinished(deployment.id, { timeoutMs: 120_000 });
    const history = done.robots[0]!.history;
    const reboot = history.find((entry) => entry.state === 'ArtifactReboot');
    const failure = history.find((entry) => entry.status === 'failure');
    if (!reboot || !failure) {
      throw new Error(`${variant}: no rollback: ${history.map((entry) => entry.state).join(', ')}`);
    }
    await robot.waitUntilReady(30_000);
    const running = (await robot.version()).version;
    if (running !== from) throw new Error(`${variant}: runs ${running} after the rollback, not ${from}`);
    return Math.round(failure.t - reboot.t) / 1000;
  } finally {
    await fleet.stop();
  }
}

/** Power cuts per minute of `fleetdrill ota fuzz` with its defaults (two robots), for one OTA client. */
export async function otaFuzzCutsPerMinute(
  seed: number,
  otaClient: OtaClientName = 'fleetdrill',
  cuts = 24,
): Promise<{ value: number; note: string }> {
  const result = await runOtaFuzz({ cuts, seed, otaClient });
  if (result.problems.length) throw new Error(`the fuzz found problems: ${result.problems.join('; ')}`);
  return {
    value: result.cuts_per_min,
    note: `${result.cuts} cuts in ${Math.round(result.ms / 1000)} s over ${result.updates} updates, ${result.bricked} bricked, ${result.inconclusive} could not tell`,
  };
}
