import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, found from this module's location (harness/core/). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
