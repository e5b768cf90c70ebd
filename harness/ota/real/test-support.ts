/**
 * What the real-client tests need from the machine, said once: root (loop devices and the robot's
 * mount namespace) and the client's tools. A test file calls it at its top; it skips the file
 * naming what is missing and the Debian packages that bring it.
 */
import { test } from '@playwright/test';
import { missingTools } from '../../../reference/robot-host/real-disk/tools.ts';

export function skipWithoutRealClientTools(tools: readonly string[], packages: readonly string[]): void {
  test.skip(process.getuid?.() !== 0, 'loop devices and the robot namespace (unshare --mount) need root');
  const missing = missingTools(tools);
  test.skip(
    missing.length > 0,
    `${missing.join(', ')} not installed (apt-get install ${packages.join(' ')})`,
  );
}
