/**
 * Loop devices for real robot disks: the real OTA clients insist on block devices, so each
 * partition file is attached to `/dev/loopN`. A loop device outlives the process that attached it,
 * so every attachment is also detached when this process exits, and a run killed with SIGKILL
 * leaves devices that the next run's {@link sweepStaleLoopDevices} detaches, telling them apart by
 * the pid in their run dir's name.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import createDebug from 'debug';
import { onProcessExit } from '../../core/cleanup.ts';
import { isAlive } from '../../fleet/run-dir.ts';

const run = promisify(execFile);
const log = createDebug('fleetdrill:loop');

/** How often an attach that lost a race is tried again, and how long it waits between tries. */
const ATTACH_TRIES = 5;
const ATTACH_RETRY_MS = 100;
/** How long a detach may wait for the device's last holder to close it, and how often it looks. */
const DETACH_WAIT_MS = 10_000;
const DETACH_POLL_MS = 20;
/**
 * What losetup says when another process configured the device it picked, or the device node is
 * not there yet: the kernel's LOOP_CONFIGURE refuses a bound device (EBUSY), so two racers never
 * share one, but the loser can fail where it should have moved on.
 */
const RACE_LOST =
  /resource busy|temporarily unavailable|no such file or directory|could not find any free loop device/i;
/** What losetup says for a device that is not bound (ENXIO) or does not exist (ENODEV). */
const NOT_ATTACHED = /no such device or address|no such device\b/i;
/** The suffix the kernel gives a back-file that was deleted while attached. */
const DELETED = ' (deleted)';
/** A partition file in a fleetdrill run dir, whose name carries the pid of the run that owns it. */
const RUN_DIR_PART = /\/fleetdrill-(\d+)-[^/]+\/(?:.+\/)?parts\/part\d+\.img$/;

/** One attached loop device, as `losetup --list` reports it. */
export interface LoopDevice {
  device: string;
  /** The back-file's path, without the kernel's " (deleted)" suffix. */
  backFile: string;
  /** True when the back-file was deleted while attached (the device still holds it open). */
  deleted: boolean;
}

/** This process's attachments: device → back-file and the exit handler that detaches it. */
const attached = new Map<string, { backFile: string; unregister: () => void }>();

/** Thrown when losetup cannot attach or detach; names the file or device. */
export class LoopDeviceError extends Error {
  override name = 'LoopDeviceError';
}

function stderrOf(error: unknown): string {
  const { stderr, message } = error as { stderr?: string | Buffer; message: string };
  return String(stderr ?? '').trim() || message;
}

/**
 * Attaches `file` to the first free loop device and returns it (`/dev/loopN`). Safe against other
 * processes attaching at the same moment; the device is detached at this process's exit unless
 * {@link detachLoop} came first.
 */
export async function attachLoop(file: string): Promise<string> {
  // losetup says "No such file or directory" for a missing file and a missing device node alike:
  // only the second is worth another try.
  try {
    await access(file);
  } catch (error) {
    throw new LoopDeviceError(`cannot attach ${file} to a loop device: ${(error as Error).message}`);
  }
  let lastError = '';
  for (let attempt = 1; attempt <= ATTACH_TRIES; attempt++) {
    try {
      const { stdout } = await run('losetup', ['--find', '--show', file]);
      const device = stdout.trim();
      const backFile = backFileOf(device) ?? file;
      attached.set(device, { backFile, unregister: onProcessExit(() => detachAtExit(device, backFile)) });
      log('attached %s to %s', file, device);
      return device;
    } catch (error) {
      lastError = stderrOf(error);
      if (!RACE_LOST.test(lastError)) break;
      log('attach %s: %s (try %d of %d)', file, lastError, attempt, ATTACH_TRIES);
      await new Promise((resolve) => setTimeout(resolve, ATTACH_RETRY_MS * attempt));
    }
  }
  throw new LoopDeviceError(`losetup --find --show ${file}: ${lastError}`);
}

/**
 * Detaches `device` and returns once the kernel let go of it (`waitMs`, default 10 s, for the last
 * process holding it open). A device that is no longer attached is fine; so is one this process attached
 * whose number now serves another file (it was detached behind our back and reused: that one is
 * someone else's and stays).
 */
export async function detachLoop(device: string, options: { waitMs?: number } = {}): Promise<void> {
  const mine = attached.get(device);
  attached.delete(device);
  mine?.unregister();
  await detachIfHolding(device, mine?.backFile, options.waitMs);
}

/**
 * Detaches `device` unless it no longer holds `backFile` (when given); true when this call
 * detached it, false when there was nothing of ours to detach.
 */
async function detachIfHolding(
  device: string,
  backFile: string | undefined,
  waitMs = DETACH_WAIT_MS,
): Promise<boolean> {
  if (backFile !== undefined && backFileOf(device) !== backFile) return false;
  const holding = backFile ?? backFileOf(device);
  try {
    await run('losetup', ['--detach', device]);
  } catch (error) {
    const said = stderrOf(error);
    if (NOT_ATTACHED.test(said)) return false;
    throw new LoopDeviceError(`losetup --detach ${device}: ${said}`);
  }
  if (holding !== undefined) await untilReleased(device, holding, waitMs);
  log('detached %s', device);
  return true;
}

/**
 * Waits until `device` no longer holds `backFile`. The kernel only marks a device that something
 * still has open (another tool probing block devices, a reader finishing) for detach at its last
 * close, and `losetup --detach` returns at once: without this wait, the device still shows as
 * attached to our file right after a release, and provisioning the same disk again refuses it.
 */
async function untilReleased(device: string, backFile: string, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  while (backFileOf(device) === backFile) {
    if (Date.now() > deadline) {
      throw new LoopDeviceError(
        `losetup --detach ${device}: still attached to ${backFile} after ${waitMs / 1000} s; held open by ${holdersOf(device).join(', ') || 'no process this user can see'}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, DETACH_POLL_MS));
  }
}

/** The processes that have `device` open, as `pid (command)`, from /proc. */
function holdersOf(device: string): string[] {
  const holders: string[] = [];
  for (const pid of safeReaddir('/proc').filter((name) => /^\d+$/.test(name))) {
    const fds = safeReaddir(`/proc/${pid}/fd`);
    if (!fds.some((fd) => safeReadlink(`/proc/${pid}/fd/${fd}`) === device)) continue;
    holders.push(`${pid} (${safeRead(`/proc/${pid}/comm`).trim() || '?'})`);
  }
  return holders;
}

function safeReaddir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

function safeReadlink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The exit handler's detach: synchronous, and only while the device still holds our file. */
function detachAtExit(device: string, backFile: string): void {
  if (backFileOf(device) !== backFile) return;
  execFileSync('losetup', ['--detach', device], { stdio: 'ignore' });
}

/**
 * The back-file of `device` from sysfs (the full path; losetup's own field is cut at 64 bytes on
 * old kernels), without " (deleted)"; undefined when the device is not attached.
 */
function backFileOf(device: string): string | undefined {
  try {
    const text = readFileSync(`/sys/block/${basename(device)}/loop/backing_file`, 'utf8').trimEnd();
    return text.endsWith(DELETED) ? text.slice(0, -DELETED.length) : text;
  } catch {
    return undefined;
  }
}

/** Every attached loop device on the machine, whoever attached it. */
export async function listLoops(): Promise<LoopDevice[]> {
  const { stdout } = await run('losetup', ['--list', '--json', '--output', 'NAME,BACK-FILE']);
  // losetup prints nothing at all, not an empty list, when no device is attached.
  if (!stdout.trim()) return [];
  const { loopdevices } = JSON.parse(stdout) as {
    loopdevices: { name: string; 'back-file': string | null }[];
  };
  return loopdevices.map(({ name, 'back-file': raw }) => {
    const text = raw ?? '';
    const deleted = text.endsWith(DELETED);
    return { device: name, backFile: deleted ? text.slice(0, -DELETED.length) : text, deleted };
  });
}

/** The pid of the run that owns `backFile`, or undefined for a file outside any run dir's disks. */
export function loopOwnerPid(backFile: string): number | undefined {
  const match = RUN_DIR_PART.exec(backFile);
  return match ? Number(match[1]) : undefined;
}

/**
 * Detaches the loop devices of runs that are gone: those whose back-file is a partition file in a
 * `fleetdrill-<pid>-…` run dir of a dead pid, deleted or not. Nothing else is touched: not a live
 * run's devices, not a device over any other file. Returns the devices detached.
 */
export async function sweepStaleLoopDevices(): Promise<string[]> {
  const swept: string[] = [];
  for (const loop of await listLoops()) {
    const pid = loopOwnerPid(loop.backFile);
    if (pid === undefined || pid === process.pid || isAlive(pid)) continue;
    try {
      // Checked again right before: another sweep may have freed it and a live run taken it.
      if (!(await detachIfHolding(loop.device, loop.backFile))) continue;
      swept.push(loop.device);
      log('detached stale %s (%s of dead pid %d)', loop.device, loop.backFile, pid);
    } catch (error) {
      // Another run's sweep may be detaching it too; the next sweep retries whatever is left.
      log('sweep %s: %s', loop.device, (error as Error).message);
    }
  }
  return swept;
}
