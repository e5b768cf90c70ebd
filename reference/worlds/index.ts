/**
 * The worlds shipped with the reference stack: `<name>.json` files beside this module, in the
 * format of protocol/world.ts.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorldError } from '../../protocol/world.ts';

const WORLDS_DIR = dirname(fileURLToPath(import.meta.url));

/** Names of the worlds shipped in reference/worlds (without `.json`). */
export function listWorlds(): string[] {
  return readdirSync(WORLDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** `warehouse` → the shipped warehouse.json; a path ending in `.json` is returned as is. */
export function resolveWorldPath(nameOrPath: string): string {
  if (nameOrPath.endsWith('.json')) return nameOrPath;
  const available = listWorlds();
  if (!available.includes(nameOrPath)) {
    throw new WorldError(`unknown world "${nameOrPath}"; available: ${available.join(', ')}`);
  }
  return join(WORLDS_DIR, `${nameOrPath}.json`);
}
