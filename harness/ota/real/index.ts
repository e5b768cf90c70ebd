/**
 * The real OTA clients on the harness side: their artifacts (built with the real tools), the
 * robot's disk for them (loop-device partitions and a U-Boot environment, provisioned and
 * released), and what each client's /etc holds.
 */
import type { RealOtaClientName } from '../../../protocol/disk-layout.ts';
import { writeMenderEtc } from './mender.ts';
import { writeRaucEtc } from './rauc.ts';
import { writeSwupdateEtc } from './swupdate.ts';

export {
  buildClientArtifact,
  buildRootfsImage,
  REFERENCE_DEVICE_TYPE,
  type BuiltClientArtifact,
  type ClientArtifactOptions,
  type BuiltRootfs,
} from './artifacts.ts';
export { provisionRealDisk, type ProvisionedRealDisk, type RealDiskSpec } from './provision.ts';
export { sweepStaleLoopDevices, listLoops } from './loop-devices.ts';
export { realClientsAvailability } from './availability.ts';

/** Writes the files `client` finds under /etc on the robot whose disk is `disk`. */
export function writeClientEtc(
  client: RealOtaClientName,
  deviceType: string,
): (disk: string) => Promise<void> {
  switch (client) {
    case 'mender':
      return (disk) => writeMenderEtc(disk, { deviceType });
    case 'rauc':
      return (disk) => writeRaucEtc(disk, { compatible: deviceType });
    case 'swupdate':
      return (disk) => writeSwupdateEtc(disk, { hardware: deviceType });
  }
}
