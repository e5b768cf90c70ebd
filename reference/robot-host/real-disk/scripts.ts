import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A script of this folder (in-namespace.sh, state-hook.sh, RAUC's backend and handlers), found
 * from the source tree or, for the agent that runs from a bundle, from `.fleetdrill/build/`.
 */
export function realDiskScript(name: string): string {
  const here = fileURLToPath(import.meta.url);
  const bundled = here.indexOf(`${sep}.fleetdrill${sep}build${sep}`);
  const root = bundled >= 0 ? here.slice(0, bundled) : resolve(dirname(here), '../../..');
  return join(root, 'reference', 'robot-host', 'real-disk', name);
}
