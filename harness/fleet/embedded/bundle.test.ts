/* Bundles are built into a scratch folder and renamed into place; several at once must not collide. */
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { expect, test } from '@playwright/test';
import { REPO_ROOT } from '../../core/paths.ts';
import { ensureBundle } from './bundle.ts';

test('one process building several bundles at once gets every one of them', async () => {
  // Inside the repo, so the entries resolve packages from its node_modules.
  const dir = join(REPO_ROOT, '.fleetdrill', `bundle-test-${process.pid}`);
  await mkdir(dir, { recursive: true });
  const names = Array.from({ length: 8 }, (_, n) => `bundle-test-${process.pid}-${n}`);
  try {
    const entries = await Promise.all(
      names.map(async (name, i) => {
        const entry = join(dir, `${name}.ts`);
        // One small bundle and two big ones: the small one finishes while the others still build.
        const body =
          i === 0 ? '' : "import { z } from 'zod';\nexport const schema = z.object({ a: z.string() });\n";
        await writeFile(entry, `${body}export const which: number = ${i};\n`);
        return entry;
      }),
    );
    const built = await Promise.all(names.map((name, i) => ensureBundle(entries[i]!, name)));
    for (const [i, path] of built.entries()) {
      expect(basename(path)).toBe(`${names[i]}.mjs`);
      const module = (await import(path)) as { which: number };
      expect(module.which).toBe(i);
    }
    // No scratch folder of this process is left behind.
    const left = (await readdir(dirname(built[0]!))).filter((entry) =>
      entry.startsWith(`.build-${process.pid}`),
    );
    expect(left).toEqual([]);
  } finally {
    await rm(dir, { recursive: true, force: true });
    // Whatever got built under these names, finished or not.
    const buildDir = join(REPO_ROOT, '.fleetdrill', 'build');
    for (const entry of await readdir(buildDir)) {
      if (
        names.some((name) => entry.startsWith(name)) ||
        entry.startsWith(`.build-${process.pid}-bundle-test`)
      ) {
        await rm(join(buildDir, entry), { recursive: true, force: true });
      }
    }
  }
});

test('a bundle gets zod with its English messages only, and a second call finds it fresh', async () => {
  const name = `bundle-test-${process.pid}-zod`;
  const entry = join(REPO_ROOT, '.fleetdrill', `${name}.ts`);
  await writeFile(
    entry,
    "import { z } from 'zod';\nexport const issue = z.object({ a: z.string() }).safeParse({}).error?.issues[0]?.message;\n",
  );
  try {
    const path = await ensureBundle(entry, name);
    const text = await readFile(path, 'utf8');
    expect(text).toContain('// node_modules/zod/v4/locales/en.js');
    expect(text).not.toContain('// node_modules/zod/v4/locales/de.js');
    const { issue } = (await import(path)) as { issue: string };
    expect(issue).toBe('Invalid input: expected string, received undefined');
    // The plugin's stub is no file on disk: it must not make every later call rebuild.
    const builtAt = (await stat(path)).mtimeMs;
    await ensureBundle(entry, name);
    expect((await stat(path)).mtimeMs).toBe(builtAt);
  } finally {
    await rm(entry, { force: true });
    const buildDir = join(REPO_ROOT, '.fleetdrill', 'build');
    for (const file of await readdir(buildDir)) {
      if (file.startsWith(name)) await rm(join(buildDir, file), { force: true });
    }
  }
});
