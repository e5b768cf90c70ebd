/**
 * The drill table run against a real OTA client, with the same runner and oracles as fleetdrill's
 * own client. Each client's spec file sets `otaClient` for its worker (a worker option must be
 * set at the top of a file) and calls this.
 */
import {
  attachOtaDrill,
  expect,
  realClientsAvailability,
  runOtaDrill,
  test,
  withDetail,
  type OtaDrill,
} from '../harness/index.ts';

/**
 * Called inside a describe block of real-client drills: skips them, saying why, where the machine
 * cannot run real clients or the fleet is not on the embedded backend.
 */
export function skipUnlessRealClientsRun(): void {
  const available = realClientsAvailability();
  test.skip(!available.ok, available.ok ? '' : `real OTA clients: ${available.reason}`);
  test.skip(
    ({ backend }) => backend !== 'embedded',
    "real OTA clients run on the embedded backend only: their loop devices and mount namespaces are the host's",
  );
}

export function realClientDrills(client: 'mender' | 'rauc' | 'swupdate', drills: readonly OtaDrill[]): void {
  test.describe(`OTA with ${client}`, { tag: ['@ota', '@nightly', '@ota-real'] }, () => {
    skipUnlessRealClientsRun();
    for (const drill of drills) {
      test(drill.name, async ({ fleet, claim }) => {
        test.setTimeout(120_000);
        const robot = await claim.one(drill.powerCut ? { needs: ['power-cut'] } : {});
        const result = await runOtaDrill(fleet, robot.id, drill);
        await attachOtaDrill(test.info(), `${client} drill`, drill, result);
        expect(result.problems, withDetail(`${client}: ${drill.name}`, result.message)).toEqual([]);
      });
    }
  });
}
