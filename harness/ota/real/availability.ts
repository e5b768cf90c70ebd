/**
 * Whether the real clients can run here: they need root (loop devices, mount namespaces) and
 * their tools. Drills skip with the reason when not; `fleetdrill doctor` names it too.
 */
import { existsSync } from 'node:fs';
import { missingTools } from '../../../reference/robot-host/index.ts';

/** What the real OTA clients' drills run, and the Debian 12 package each comes from. */
export const REAL_CLIENT_TOOLS: Readonly<Record<string, string>> = {
  mender: 'mender-client',
  'mender-artifact': 'mender-artifact',
  rauc: 'rauc',
  swupdate: 'swupdate',
  fw_printenv: 'libubootenv-tool',
  fw_setenv: 'libubootenv-tool',
  mkenvimage: 'u-boot-tools',
  // rauc bundle packs with it; Debian's rauc does not depend on it.
  mksquashfs: 'squashfs-tools',
  losetup: 'mount',
  unshare: 'util-linux',
  'dbus-daemon': 'dbus-daemon',
  setpriv: 'util-linux',
  cpio: 'cpio',
  openssl: 'openssl',
};

/** Whether the real clients' drills can run, or why not. */
export type RealClientsAvailability = { ok: true } | { ok: false; reason: string };

const cached = new Map<number | undefined, RealClientsAvailability>();

/**
 * `{ok: true}`, or why the real-client drills cannot run on this machine when run as `uid`
 * (default: this process's). Only the uid can be asked about: the loop driver and the tools are
 * looked at for real, so a test can see the non-root answer on a machine where it is root.
 */
export function realClientsAvailability(
  uid: number | undefined = process.getuid?.(),
): RealClientsAvailability {
  let known = cached.get(uid);
  if (!known) {
    known = lookAt(uid);
    cached.set(uid, known);
  }
  return known;
}

function lookAt(uid: number | undefined): RealClientsAvailability {
  if (uid !== 0) {
    return {
      ok: false,
      reason: `the real OTA clients need root (loop devices and mount namespaces); this runs as uid ${uid ?? 'unknown'}`,
    };
  }
  if (!existsSync('/dev/loop-control')) {
    return { ok: false, reason: 'no /dev/loop-control: this kernel has no loop devices' };
  }
  const missing = missingTools(Object.keys(REAL_CLIENT_TOOLS));
  const packages = [...new Set(missing.map((tool) => REAL_CLIENT_TOOLS[tool]!))];
  return missing.length
    ? { ok: false, reason: `missing ${missing.join(', ')} (apt-get install ${packages.join(' ')})` }
    : { ok: true };
}
