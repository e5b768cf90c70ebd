import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { ddsProbeAvailability, ddsProbeSourceHash, ensureDdsProbe } from './build.ts';

const run = promisify(execFile);
const BUILD_TS = join(dirname(fileURLToPath(import.meta.url)), 'build.ts');
const TSX = join(dirname(fileURLToPath(import.meta.url)), '../../../node_modules/.bin/tsx');

test.describe('ddsprobe build', () => {
  test.beforeEach(async () => {
    const availability = await ddsProbeAvailability();
    test.skip(
      !availability.ok,
      availability.ok ? '' : `ddsprobe cannot be built: missing ${availability.missing}`,
    );
  });

  test('availability names each missing piece and how to install it', async () => {
    const none = await ddsProbeAvailability({
      path: '/nonexistent',
      ddsHeader: '/nonexistent/dds.h',
      libDirs: ['/nonexistent'],
    });
    expect(none.ok).toBe(false);
    const missing = none.ok ? '' : none.missing;
    expect(missing).toContain(
      'idlc and /nonexistent/dds.h and libddsc.so (Debian: apt-get install -y cyclonedds-dev)',
    );
    expect(missing).toContain('a C compiler `cc`');
    expect(await ddsProbeAvailability()).toEqual({ ok: true });
  });

  test('builds once into a directory named by the source hash, and the binary runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fleetdrill-ddsprobe-'));
    try {
      const started = performance.now();
      const binary = await ensureDdsProbe(dir);
      const buildMs = performance.now() - started;
      test.info().annotations.push({ type: 'ddsprobe build ms', description: String(Math.round(buildMs)) });
      const hash = await ddsProbeSourceHash();
      expect(binary).toBe(join(dir, hash.slice(0, 16), 'ddsprobe'));
      const manifest = JSON.parse(await readFile(join(dir, hash.slice(0, 16), 'manifest.json'), 'utf8'));
      expect(manifest.sourceHash).toBe(hash);
      expect(await ensureDdsProbe(dir)).toBe(binary);
      // The probe refuses a bad flag with exit 2 and a JSON line naming it: proof it is ours and it runs.
      const failed = await run(binary, ['pub', '--no-such-flag']).then(
        () => undefined,
        (error: { code: number; stdout: string }) => error,
      );
      expect(failed?.code).toBe(2);
      expect(JSON.parse(failed?.stdout ?? '{}')).toMatchObject({ kind: 'error', flag: '--no-such-flag' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('two processes building at once agree on one finished build and leave no scratch dirs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fleetdrill-ddsprobe-race-'));
    try {
      const script = `import { ensureDdsProbe } from ${JSON.stringify(BUILD_TS)}; console.log(await ensureDdsProbe(${JSON.stringify(dir)}));`;
      const builders = [0, 1].map(() => run(TSX, ['--input-type=module', '-e', script], { timeout: 60_000 }));
      const paths = (await Promise.all(builders)).map((r) => r.stdout.trim());
      expect(paths).toEqual([paths[0], paths[0]]);
      expect(await readdir(dir)).toEqual([(await ddsProbeSourceHash()).slice(0, 16)]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a build of older sources and the scratch dir of a dead builder are pruned by the next build', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fleetdrill-ddsprobe-prune-'));
    try {
      // pid 2^22+1 is above Linux's pid_max limit, so no process can have it.
      for (const name of ['0123456789abcdef', `.build-${2 ** 22 + 1}-dead`, `.build-${process.pid}-live`]) {
        await mkdir(join(dir, name));
      }
      const script = `import { ensureDdsProbe } from ${JSON.stringify(BUILD_TS)}; console.log(await ensureDdsProbe(${JSON.stringify(dir)}));`;
      await run(TSX, ['--input-type=module', '-e', script], { timeout: 60_000 });
      expect((await readdir(dir)).sort()).toEqual([
        `.build-${process.pid}-live`,
        (await ddsProbeSourceHash()).slice(0, 16),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a build directory whose manifest does not match the sources is rebuilt', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fleetdrill-ddsprobe-stale-'));
    try {
      const hash = await ddsProbeSourceHash();
      const script = `import { ensureDdsProbe } from ${JSON.stringify(BUILD_TS)}; console.log(await ensureDdsProbe(${JSON.stringify(dir)}));`;
      await run(TSX, ['--input-type=module', '-e', script], { timeout: 60_000 });
      const manifestPath = join(dir, hash.slice(0, 16), 'manifest.json');
      const stale = { ...JSON.parse(await readFile(manifestPath, 'utf8')), sourceHash: 'not-these-sources' };
      await writeFile(manifestPath, JSON.stringify(stale));
      await run(TSX, ['--input-type=module', '-e', script], { timeout: 60_000 });
      expect(JSON.parse(await readFile(manifestPath, 'utf8')).sourceHash).toBe(hash);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
