import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import createDebug from 'debug';
import { REPO_ROOT } from '../../core/paths.ts';

const log = createDebug('fleetdrill:bundle');

const BUILD_DIR = join(REPO_ROOT, '.fleetdrill', 'build');

/**
 * Any `import { z } from 'zod'` brings zod's error messages in every language (370 kB, half the
 * robot host's bundle), and each of 50 robot processes compiles them at start: robots answer in
 * English, the only locale zod itself configures, so the bundles get that one.
 */
export const ZOD_ENGLISH_ONLY: Plugin = {
  name: 'zod-english-only',
  setup(bundler) {
    bundler.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/]/.test(args.importer)
        ? { path: resolve(dirname(args.importer), args.path), namespace: 'zod-english-only' }
        : undefined,
    );
    bundler.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: dirname(args.path),
    }));
  },
};

/**
 * Bundles a TypeScript entry into one ES module under `.fleetdrill/build`, rebuilding only when an
 * input changed. Robots start from the bundle because a bundled file starts in a fraction of the
 * time a TypeScript loader needs, and a fleet of 50 starts 50 of them at once.
 */
export async function ensureBundle(
  entry: string,
  name: string,
  external: readonly string[] = [],
): Promise<string> {
  const outfile = join(BUILD_DIR, `${name}.mjs`);
  const manifest = join(BUILD_DIR, `${name}.inputs.json`);
  if (await isFresh(outfile, manifest)) return outfile;
  await mkdir(BUILD_DIR, { recursive: true });
  // Build into a private folder, then rename: parallel workers may build at the same time, and
  // one process builds several bundles at once, so the folder is per process and per bundle.
  const scratch = join(BUILD_DIR, `.build-${process.pid}-${name}`);
  const result = await build({
    entryPoints: [resolve(REPO_ROOT, entry)],
    outfile: join(scratch, `${name}.mjs`),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Packages go in too: resolving and compiling zod's and ws's many files costs each robot
    // process more CPU than the rest of its boot, and 50 boot at once on two cores.
    external: ['bufferutil', 'utf-8-validate', ...external],
    plugins: [ZOD_ENGLISH_ONLY],
    banner: {
      js: "import { createRequire as __fleetdrillRequire } from 'node:module'; const require = __fleetdrillRequire(import.meta.url);",
    },
    sourcemap: 'linked',
    sourcesContent: false,
    metafile: true,
    logLevel: 'error',
  });
  const inputs = Object.keys(result.metafile.inputs)
    // The plugin's stub is no file: its own input, zod's English locale, is listed.
    .filter((input) => !input.startsWith(`${ZOD_ENGLISH_ONLY.name}:`))
    .map((input) => resolve(REPO_ROOT, input));
  // How it is bundled is an input too: a change here rebuilds what was bundled before it.
  inputs.push(fileURLToPath(import.meta.url));
  await writeFile(join(scratch, `${name}.inputs.json`), JSON.stringify(inputs));
  // The map first: a robot starting between the renames finds a map that matches or none.
  await rename(join(scratch, `${name}.mjs.map`), `${outfile}.map`);
  await rename(join(scratch, `${name}.mjs`), outfile);
  await rename(join(scratch, `${name}.inputs.json`), manifest);
  await rm(scratch, { recursive: true, force: true });
  log('built %s from %d inputs', outfile, inputs.length);
  return outfile;
}

async function isFresh(outfile: string, manifest: string): Promise<boolean> {
  try {
    const built = (await stat(outfile)).mtimeMs;
    const inputs = JSON.parse(await readFile(manifest, 'utf8')) as string[];
    for (const input of inputs) {
      if ((await stat(input)).mtimeMs > built) return false;
    }
    return true;
  } catch {
    return false;
  }
}
