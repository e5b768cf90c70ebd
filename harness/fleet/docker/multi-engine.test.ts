/**
 * Issue 17's must-hold: a docker fleet of 6 over 2 engines on one machine. Every robot streams
 * through its proxy (the harness's rosbridge link, and the agent's cloud link with telemetry), a
 * power cut works on either engine, and teardown leaves nothing of the run on either engine.
 */
import { expect, test } from '@playwright/test';
import { referenceFleet } from '../../testing/reference-fleet.ts';
import {
  secondEngineUnavailable,
  startSecondDockerEngine,
  type SecondDockerEngine,
} from '../../testing/second-docker-engine.ts';
import type { StartedFleet } from '../started-fleet.ts';
import { checkEngine, dockerClient, LABELS, ownerLabel } from './engine.ts';
import { defaultEngineUrl } from './engines.ts';

const home = dockerClient();
const homeUp = await checkEngine(home).then(
  () => true,
  () => false,
);
const unavailable = homeUp
  ? secondEngineUnavailable()
  : 'no Docker engine on this machine (see docs/docker-backend.md)';
if (unavailable) console.log(`multi-engine test skipped: ${unavailable}`);
test.skip(unavailable !== undefined, unavailable);

test.describe('docker fleet over two engines', () => {
  test.describe.configure({ timeout: 90_000 });
  let second: SecondDockerEngine | undefined;

  test.afterAll(async () => {
    await second?.stop();
  });

  test('6 robots over 2 engines stream, survive a power cut on each engine, and leave nothing', async () => {
    second = await startSecondDockerEngine();
    const engines = [defaultEngineUrl(), second.url];
    let fleet: StartedFleet | undefined;
    const runs = new Set<string>();
    try {
      fleet = await referenceFleet({
        robots: 6,
        seed: 17,
        backend: 'docker',
        dockerHosts: engines,
        telemetry: true,
      }).start();

      // Round-robin in robot order: r01 home, r02 on the second engine, and so on.
      expect(fleet.info.engines).toEqual({
        r01: engines[0],
        r02: engines[1],
        r03: engines[0],
        r04: engines[1],
        r05: engines[0],
        r06: engines[1],
      });
      const filters = { label: [`${LABELS.owner}=${ownerLabel()}`] };
      const onSecond = await second.docker.listContainers({ filters });
      for (const info of onSecond) runs.add(info.Labels[LABELS.run]!);
      expect(onSecond.map((info) => info.Labels[LABELS.robot]).sort()).toEqual(['r02', 'r04', 'r06']);
      const onHome = (await home.listContainers({ filters })).filter((info) =>
        runs.has(info.Labels[LABELS.run]!),
      );
      expect(onHome.map((info) => info.Labels[LABELS.robot] ?? info.Labels[LABELS.role]).sort()).toEqual([
        'cloud',
        'r01',
        'r03',
        'r05',
        'toxiproxy',
      ]);
      // Docker publishes on every address unless told one: each port names loopback, or its run
      // network's gateway where a link crosses engines (docs/security.md).
      const [run] = runs;
      const gateways = await Promise.all(
        [home, second.docker].map(
          async (docker) => (await docker.getNetwork(run!).inspect()).IPAM?.Config?.[0]?.Gateway as string,
        ),
      );
      const wide = [...onHome, ...onSecond].flatMap((info) =>
        info.Ports.filter((port) => port.PublicPort && !['127.0.0.1', ...gateways].includes(port.IP)).map(
          (port) => `${info.Names[0]} publishes ${port.PrivatePort} on ${port.IP || '*'}:${port.PublicPort}`,
        ),
      );
      expect(wide).toEqual([]);

      // Every robot streams through its proxy: /odom over the fault layer's rosbridge link ...
      for (const robot of fleet.roster) {
        expect(robot.rosbridgeUrl, `${robot.id} is reached through the fault layer`).not.toBe(
          robot.directRosbridgeUrl,
        );
        await robot.pose(10_000);
      }
      // ... and its agent's metrics over its cloud link, into the cloud on the home engine.
      const cloud = fleet.cloud.api;
      for (const robot of fleet.roster) {
        await expect
          .poll(async () => (await cloud.records(robot.id, { tier: 'metrics' })).length, {
            message: `${robot.id} (${fleet.info.engines[robot.id]}): metrics reach the cloud`,
            timeout: 20_000,
          })
          .toBeGreaterThan(0);
      }

      // A power cut on a robot of each engine: down, then up again and streaming.
      const [r01, r02] = fleet.roster;
      await Promise.all([r01!.powerCut(), r02!.powerCut()]);
      expect([r01!.powered, r02!.powered]).toEqual([false, false]);
      await Promise.all([r01!.powerOn(), r02!.powerOn()]);
      await Promise.all([r01!.pose(10_000), r02!.pose(10_000)]);
    } finally {
      await fleet?.stop();
    }

    // Nothing of the run is left on either engine.
    expect(runs.size).toBe(1);
    const [run] = runs;
    for (const [name, docker] of [
      ['home', home],
      ['second', second.docker],
    ] as const) {
      const filters = { label: [`${LABELS.run}=${run}`] };
      const [containers, networks] = await Promise.all([
        docker.listContainers({ all: true, filters }),
        docker.listNetworks({ filters }),
      ]);
      expect(
        { containers: containers.map((info) => info.Names[0]), networks: networks.map((info) => info.Name) },
        `${name} engine after stop()`,
      ).toEqual({ containers: [], networks: [] });
    }
  });
});
