/* Real loop devices: attach, list, detach, racing attaches, the exit handler, and the sweep of a SIGKILLed run's devices. */
import { execFileSync, spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect, test } from '@playwright/test';
import {
  attachLoop,
  detachLoop,
  listLoops,
  LoopDeviceError,
  loopOwnerPid,
  sweepStaleLoopDevices,
} from './loop-devices.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '../../..');
const MODULE = pathToFileURL(join(HERE, 'loop-devices.ts')).href;

function hasLosetup(): boolean {
  try {
    execFileSync('losetup', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test.skip(
  process.getuid?.() !== 0,
  'loop devices need root: run as root (fleetdrill doctor: real OTA clients)',
);
test.skip(!hasLosetup(), 'no losetup on PATH (apt-get install -y mount)');

/** Every folder a test made: afterAll checks that no loop device still holds a file in one. */
const made: string[] = [];

/** A folder under tmpdir() (its real path: the kernel reports back-files by real path). */
function folder(name: string): string {
  const path = realpathSync(tmpdir());
  const dir = name.includes('XXXX') ? mkdtempSync(join(path, name.replace('XXXX', ''))) : join(path, name);
  mkdirSync(dir, { recursive: true });
  made.push(dir);
  return dir;
}

/** A 1 MiB sparse file at `path`, its parents made. */
function sparse(path: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, '');
  truncateSync(path, 1 << 20);
  return path;
}

/** The devices holding a file under one of `dirs`, from `losetup -a` as a person would look. */
function heldUnder(dirs: string[]): string[] {
  return execFileSync('losetup', ['-a'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => dirs.some((dir) => line.includes(`${dir}/`)));
}

test.afterAll(async () => {
  const left = heldUnder(made);
  for (const line of left) await detachLoop(line.split(':')[0]!).catch(() => {});
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
  expect(left, 'loop devices the tests left attached').toEqual([]);
});

/**
 * Runs a node child that attaches a partition file of its own run dir
 * (`fleetdrill-<its pid>-x/disk/parts/<part>`) with attachLoop and prints the device and file;
 * `exit` says whether it then exits by itself (without detaching) or waits to be killed.
 */
function attachInChild(
  part: string,
  exit: boolean,
): Promise<{ device: string; file: string; pid: number; exited: Promise<void> }> {
  const script = [
    `import { mkdirSync, realpathSync, truncateSync, writeFileSync } from 'node:fs';`,
    `import { tmpdir } from 'node:os';`,
    `import { join } from 'node:path';`,
    `import { attachLoop } from ${JSON.stringify(MODULE)};`,
    `const parts = join(realpathSync(tmpdir()), 'fleetdrill-' + process.pid + '-x', 'disk', 'parts');`,
    `mkdirSync(parts, { recursive: true });`,
    `const file = join(parts, process.env.FD_LOOP_PART);`,
    `writeFileSync(file, ''); truncateSync(file, 1 << 20);`,
    `console.log(JSON.stringify({ device: await attachLoop(file), file }));`,
    exit ? '' : 'setInterval(() => {}, 1000);',
  ].join('\n');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    env: { ...process.env, FD_LOOP_PART: part },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child attaching its ${part} printed nothing in 15 s: ${stderr}`));
    }, 15_000);
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('\n')) {
        clearTimeout(timer);
        const printed = JSON.parse(stdout) as { device: string; file: string };
        made.push(dirname(dirname(dirname(printed.file))));
        resolve({ ...printed, pid: child.pid!, exited });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!stdout.includes('\n')) reject(new Error(`child attaching its ${part} exited ${code}: ${stderr}`));
    });
  });
}

test('attach, list and detach one file; detaching twice is fine; a deleted back-file is listed as such', async () => {
  const dir = folder('fd-loop-XXXX');
  const file = sparse(join(dir, 'a.img'));
  const device = await attachLoop(file);
  expect(device).toMatch(/^\/dev\/loop\d+$/);
  expect(await listLoops()).toContainEqual({ device, backFile: file, deleted: false });

  await detachLoop(device);
  expect((await listLoops()).map((loop) => loop.device)).not.toContain(device);
  await detachLoop(device);

  const gone = sparse(join(dir, 'gone.img'));
  const held = await attachLoop(gone);
  unlinkSync(gone);
  expect(await listLoops()).toContainEqual({ device: held, backFile: gone, deleted: true });
  await detachLoop(held);
  expect((await listLoops()).map((loop) => loop.device)).not.toContain(held);
});

test('a detach while another process holds the device open returns once the kernel let go; a holder that never lets go is named', async () => {
  const dir = folder('fd-loop-XXXX');
  const device = await attachLoop(sparse(join(dir, 'held.img')));
  // A concurrent `losetup --find` or a block-device probe holds a device for a moment; so does this.
  const holder = spawn('sh', ['-c', `exec 3<${device}; sleep 0.4`]);
  await new Promise((resolve) => setTimeout(resolve, 150));
  let released = false;
  holder.once('exit', () => (released = true));
  await detachLoop(device);
  expect(released, 'detachLoop returned before the holder closed the device').toBe(true);
  expect((await listLoops()).map((loop) => loop.device)).not.toContain(device);

  const stuck = await attachLoop(sparse(join(dir, 'stuck.img')));
  const sleeper = spawn('sh', ['-c', `exec 3<${stuck}; exec sleep 30`]);
  try {
    await new Promise((resolve) => setTimeout(resolve, 150));
    const error = await detachLoop(stuck, { waitMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoopDeviceError);
    expect((error as Error).message).toMatch(
      new RegExp(`${stuck}: still attached .* held open by ${sleeper.pid} \\(sleep\\)`),
    );
  } finally {
    sleeper.kill('SIGKILL');
  }
});

test('six attaches at the same moment get six different devices, each over its own file', async () => {
  const dir = folder('fd-loop-XXXX');
  const files = Array.from({ length: 6 }, (_, i) => sparse(join(dir, `f${i}.img`)));
  const devices = await Promise.all(files.map((file) => attachLoop(file)));
  try {
    expect(new Set(devices).size).toBe(files.length);
    const loops = await listLoops();
    files.forEach((file, i) =>
      expect(loops).toContainEqual({ device: devices[i], backFile: file, deleted: false }),
    );
  } finally {
    await Promise.all(devices.map((device) => detachLoop(device)));
  }
});

test('attaching a file that is not there fails at once, naming the file', async () => {
  const dir = folder('fd-loop-XXXX');
  const started = Date.now();
  const error = await attachLoop(join(dir, 'missing.img')).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(LoopDeviceError);
  expect((error as Error).message).toContain(join(dir, 'missing.img'));
  expect(Date.now() - started, 'no retries for a missing file').toBeLessThan(1000);
});

test('a process that exits without detaching leaves no device: the exit handler detached it', async () => {
  const child = await attachInChild('part2.img', true);
  await child.exited;
  const held = (await listLoops()).filter((loop) => loop.backFile === child.file);
  expect(held, `${child.device} still holds ${child.file} after its process exited`).toEqual([]);
});

test('only partition files in a fleetdrill-<pid>-… folder carry an owner', () => {
  expect(loopOwnerPid('/tmp/fleetdrill-4242-aB3x/robots/r01/disk/parts/part2.img')).toBe(4242);
  expect(loopOwnerPid('/var/tmp/fleetdrill-77-x/parts/part3.img')).toBe(77);
  expect(loopOwnerPid('/tmp/fleetdrill-4242-x/disk/boot/uboot.env')).toBeUndefined();
  expect(loopOwnerPid('/tmp/fleetdrill-4242-x/disk/parts/part2.img.bak')).toBeUndefined();
  expect(loopOwnerPid('/tmp/fd-4242-x/disk/parts/part2.img')).toBeUndefined();
  expect(loopOwnerPid('/tmp/fleetdrill-x-4242/disk/parts/part2.img')).toBeUndefined();
});

test("the sweep detaches a SIGKILLed run's partitions, deleted or not, and nothing else", async () => {
  // A live owner: a process that outlives the sweep (not this one, which the sweep skips anyway).
  const live = spawn('sleep', ['60']);
  const mine: string[] = [];
  try {
    const liveFile = sparse(
      join(folder(`fleetdrill-${live.pid}-x`), 'robots', 'r01', 'disk', 'parts', 'part2.img'),
    );
    mine.push(await attachLoop(liveFile));

    // The dead runs attach from their own run dirs and are killed: no exit handler runs.
    const killed = await Promise.all([attachInChild('part2.img', false), attachInChild('part3.img', false)]);
    for (const { pid, exited } of killed) {
      process.kill(pid, 'SIGKILL');
      await exited;
    }
    // In a dead run's dir, but not a partition: not ours to sweep.
    const notAPartition = sparse(join(dirname(dirname(killed[0].file)), 'boot', 'uboot.env'));
    mine.push(await attachLoop(notAPartition));
    // One back-file deleted, as when the dead run's dir was swept before its devices.
    unlinkSync(killed[1].file);

    const swept = await sweepStaleLoopDevices();
    const loops = await listLoops();
    expect(swept).toEqual(expect.arrayContaining(killed.map(({ device }) => device)));
    for (const { file } of killed)
      expect(
        loops.filter((loop) => loop.backFile === file),
        `${file} still attached`,
      ).toEqual([]);
    expect(loops, 'the live run keeps its device').toContainEqual({
      device: mine[0],
      backFile: liveFile,
      deleted: false,
    });
    expect(loops, 'a file that is not a partition stays').toContainEqual({
      device: mine[1],
      backFile: notAPartition,
      deleted: false,
    });
    expect(swept).not.toContain(mine[0]);
    expect(swept).not.toContain(mine[1]);
  } finally {
    await Promise.all(mine.map((device) => detachLoop(device)));
    live.kill('SIGKILL');
  }
});
