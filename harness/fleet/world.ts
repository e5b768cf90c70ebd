import { basename } from 'node:path';
import { WorldError, loadWorld, type World } from '../../protocol/world.ts';
import { resolveWorldPath } from '../../reference/worlds/index.ts';
import { ConfigError } from '../core/errors.ts';

/** A world the fleet will run in, checked before any robot starts. */
export interface ResolvedWorld {
  name: string;
  path: string;
  world: World;
}

/**
 * Resolves a world name or path and validates the file, so that a bad world fails once with a
 * message naming the field instead of killing every robot at boot.
 */
export function resolveWorld(nameOrPath: string): ResolvedWorld {
  try {
    const path = resolveWorldPath(nameOrPath);
    const world = loadWorld(path);
    return { name: basename(path, '.json'), path, world };
  } catch (error) {
    // The world's own message already names the file and the field.
    if (error instanceof WorldError) throw new ConfigError('', error.message);
    throw error;
  }
}
