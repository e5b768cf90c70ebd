import { basename } from 'node:path';
import { loadWorld, resolveWorldPath } from '../../fixtures/worlds/world.ts';

/** A world the fleet will run in, checked before any robot starts. */
export interface ResolvedWorld {
  name: string;
  path: string;
}

/**
 * Resolves a world name or path and validates the file, so that a bad world fails once with a
 * message naming the field instead of killing every robot at boot.
 */
export function resolveWorld(nameOrPath: string): ResolvedWorld {
  const path = resolveWorldPath(nameOrPath);
  loadWorld(path);
  return { name: basename(path, '.json'), path };
}
