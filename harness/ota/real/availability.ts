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

let cached: { ok: true } | { ok: false; reason: string } | undefined;

/** `{ok: true}`, or why the real-client drills cannot run on this machine. */
export function realClientsAvailability(): { ok: true } | { ok: false; reason: string } {
  if (cached) return cached;
  if (process.getuid?.() !== 0) {
    cached = { ok: false, reason: 'the real OTA clients need root (loop devices and mount namespaces)' };
  } else if (!existsSync('/dev/loop-control')) {
    cached = { ok: false, reason: 'no /dev/loop-control: this kernel has no loop devices' };
  } else {
    const missing = missingTools(Object.keys(REAL_CLIENT_TOOLS));
    const packages = [...new Set(missing.map((tool) => REAL_CLIENT_TOOLS[tool]!))];
    cached = missing.length
      ? { ok: false, reason: `missing ${missing.join(', ')} (apt-get install ${packages.join(' ')})` }
      : { ok: true };
  }
  return cached;
}
