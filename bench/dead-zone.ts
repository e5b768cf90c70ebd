import { Fleet } from '../harness/fleet/index.ts';
import { provisionRobots } from '../harness/ota/index.ts';

/**
 * One robot drives from its spawn cell to the warehouse dock, across the dead band behind the
 * steel mezzanine, while the Wi-Fi map follows it. Returns the lag from receiving the first pose
 * inside the dead zone to the dead profile being active on the robot's proxy (ms). The pose
 * itself is at most one /odom period (50 ms) older than the crossing.
 */
export async function deadZoneApplyLagMs(seed: number): Promise<number> {
  // This measures the fault layer's reaction: the agent's uploads would share its CPU and proxy.
  const fleet = await new Fleet({
    robots: 1,
    seed,
    world: 'warehouse',
    telemetry: false,
    provision: provisionRobots(),
  }).start();
  try {
    const robot = fleet.roster[0]!;
    await using faults = fleet.openFaultSession();
    const coverage = faults.followWifi([robot], { minIntervalMs: 0 });
    const status = await robot.goTo(fleet.place('dock'), { timeoutMs: 120_000 });
    coverage.stop();
    const lag = coverage.deadZoneApplyLagsMs[0];
    if (status.status !== 'succeeded' || lag === undefined) {
      throw new Error(
        `robot ${robot.id}: the drive to the dock ended ${status.status} without a dead-zone entry`,
      );
    }
    return Math.round(lag * 10) / 10;
  } finally {
    await fleet.stop();
  }
}
