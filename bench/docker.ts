import { Fleet } from '../harness/fleet/index.ts';
import { provisionRobots } from '../harness/ota/index.ts';
import { dockerClient } from '../harness/fleet/docker/engine.ts';
import { ensureImages } from '../harness/fleet/docker/images.ts';

/** Builds the images first, so that the timings below measure containers, not image builds. */
export async function prepareDockerImages(): Promise<void> {
  await ensureImages(dockerClient());
}

/**
 * A docker fleet (robots, cloud, fault layer, each a container) from `start()` to ready, and to
 * every edge agent answering; the images exist already (their inputs are still hashed).
 */
export async function dockerFleetUp(
  robots: number,
  seed: number,
): Promise<{ readyMs: number; agentsMs: number }> {
  const startedAt = performance.now();
  const fleet = await new Fleet({
    robots,
    seed,
    world: 'empty',
    backend: 'docker',
    provision: provisionRobots(),
  }).start();
  try {
    await Promise.all(fleet.roster.map((robot) => robot.agent.waitUntilReady(60_000)));
    return { readyMs: fleet.info.readyMs, agentsMs: Math.round(performance.now() - startedAt) };
  } finally {
    await fleet.stop();
  }
}

/**
 * One robot container's power cycle: `docker kill` to the robot ready again (rosbridge answering
 * through its proxy and /odom at rate), the same readiness a fleet's start waits for. Median of
 * `cycles` cycles on one fleet.
 */
export async function dockerPowerCycleMs(seed: number, cycles = 3): Promise<number[]> {
  const fleet = await new Fleet({
    robots: 1,
    seed,
    world: 'empty',
    backend: 'docker',
    provision: provisionRobots(),
  }).start();
  try {
    const robot = fleet.robot('r01');
    const times: number[] = [];
    for (let cycle = 0; cycle < cycles; cycle++) {
      const startedAt = performance.now();
      await robot.powerCut();
      await robot.powerOn();
      times.push(Math.round(performance.now() - startedAt));
    }
    return times;
  } finally {
    await fleet.stop();
  }
}
