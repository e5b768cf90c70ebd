/* Each variant's payload, booted as the robot host boots a slot (in a worker), does what its name says over real rosbridge. */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { Ros, Service } from 'roslib';
import type { SlotSoftwareOptions } from '../../reference/robot-sim/slot-main.ts';
import { SlotSoftware, SoftwareBootError } from '../../reference/robot-host/software.ts';
import { REPO_ROOT } from '../core/paths.ts';
import { buildRobotVariant, payloadRange, type RobotVariant } from './index.ts';

const VERSION = '1.4.2';
const SLOT = 4 * 1024 * 1024;
// The bundle cannot find the shipped worlds by name, so it gets a path, as a robot host gives it.
const WORLD = join(REPO_ROOT, 'reference/worlds/warehouse.json');

let work: string;
const running = new Set<SlotSoftware>();
test.beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'fd-ota-behaviour-'));
  await mkdir(join(work, 'disk'));
});
test.afterEach(async () => {
  await Promise.all([...running].map((software) => software.kill()));
  running.clear();
  await rm(work, { recursive: true, force: true });
});

/** Builds the variant and copies its payload out of the artifact into a runnable .mjs file. */
async function payloadFile(variant: RobotVariant): Promise<string> {
  const built = await buildRobotVariant({ variant, version: VERSION, slotCapacityBytes: SLOT });
  const { offset, length } = await payloadRange(built.path);
  const out = join(work, `${variant}.mjs`);
  await writeFile(out, (await readFile(built.path)).subarray(offset, offset + length));
  return out;
}

interface Booted {
  software?: SlotSoftware;
  /** The software's rosbridge URL, or undefined when it exited first. */
  url?: string;
  /** Wall ms from the boot to ready (or exit). */
  ms: number;
  exitCode?: number;
  output: () => string;
}

/** Boots a payload as the robot host does, in a worker, and waits for it to listen or exit. */
async function boot(
  payload: string,
  options: Partial<SlotSoftwareOptions> = {},
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 20_000,
): Promise<Booted> {
  const started = performance.now();
  let output = '';
  try {
    const { software, ready } = await SlotSoftware.boot(
      payload,
      {
        id: 'r01',
        world: WORLD,
        seed: 3,
        rtf: 1,
        spawnIndex: 0,
        host: '127.0.0.1',
        port: 0,
        disk: join(work, 'disk'),
        slotVersion: '0.0.1',
        ...options,
      },
      timeoutMs,
      { onOutput: (text) => (output += text), env: { ...process.env, ...env } },
    );
    running.add(software);
    return { software, url: ready.url, ms: performance.now() - started, output: () => output };
  } catch (error) {
    if (!(error instanceof SoftwareBootError) || error.exitCode === undefined) throw error;
    return { ms: performance.now() - started, exitCode: error.exitCode, output: () => output };
  }
}

/** Calls a service over rosbridge with roslib and closes the connection. */
async function call<T>(url: string, name: string, serviceType: string): Promise<T> {
  const ros = new Ros({});
  try {
    await new Promise<void>((resolve, reject) => {
      ros.once('connection', () => resolve());
      ros.once('error', () => reject(new Error(`cannot connect to ${url}`)));
      void ros.connect(url);
    });
    return await new Promise<T>((resolve, reject) => {
      new Service<object, T>({ ros, name, serviceType }).callService(
        {},
        resolve,
        (err) => reject(new Error(`${name}: ${err}`)),
        5,
      );
    });
  } finally {
    ros.close();
  }
}

interface Version {
  version: string;
  model: string;
  robot_id: string;
}
interface Trigger {
  success: boolean;
  message: string;
}
const getVersion = (url: string) => call<Version>(url, '/get_version', 'fleetdrill_msgs/srv/GetVersion');
const selfTest = (url: string) => call<Trigger>(url, '/self_test', 'std_srvs/srv/Trigger');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether something accepts WebSocket connections on the URL right now. */
async function accepts(url: string): Promise<boolean> {
  const ros = new Ros({});
  try {
    return await new Promise<boolean>((resolve) => {
      ros.once('connection', () => resolve(true));
      ros.once('error', () => resolve(false));
      ros.once('close', () => resolve(false));
      void ros.connect(url);
    });
  } finally {
    ros.close();
  }
}

test.describe.configure({ timeout: 60_000 });

for (const variant of ['good', 'too-large'] as const) {
  test(`${variant} serves its built version, not the slot's word, and passes its self-test`, async () => {
    const booted = await boot(await payloadFile(variant), { slotVersion: '0.0.1' });
    expect(booted.url, booted.output()).toBeDefined();
    expect(await getVersion(booted.url!)).toEqual({ version: VERSION, model: 'fd-amr-1', robot_id: 'r01' });
    expect(await selfTest(booted.url!)).toEqual({
      success: true,
      message: 'lidar, imu, battery, e-stop: ok',
    });
  });
}

test('fails-self-test boots but its self-test fails, naming the failure', async () => {
  const booted = await boot(await payloadFile('fails-self-test'));
  expect(booted.url, booted.output()).toBeDefined();
  expect((await getVersion(booted.url!)).version).toBe(VERSION);
  const result = await selfTest(booted.url!);
  expect(result.success).toBe(false);
  expect(result.message).toContain('fails-self-test');
});

test('crashes-on-boot logs a line and exits 70 without ever listening', async () => {
  const booted = await boot(await payloadFile('crashes-on-boot'));
  expect(booted.url).toBeUndefined();
  expect(booted.exitCode).toBe(70);
  expect(booted.output()).toMatch(/crashes-on-boot.*70/);
});

test('slow-boot does not listen until FLEETDRILL_SLOW_BOOT_MS have passed, then works', async () => {
  const port = await freePort();
  const url = `ws://127.0.0.1:${port}`;
  const waitMs = 2500;
  const booting = boot(
    await payloadFile('slow-boot'),
    { port },
    {
      FLEETDRILL_SLOW_BOOT_MS: String(waitMs),
    },
  );
  await new Promise((resolve) => setTimeout(resolve, waitMs / 2));
  expect(await accepts(url), 'listening half-way through the slow boot').toBe(false);
  const booted = await booting;
  expect(booted.url, booted.output()).toBe(url);
  expect(booted.ms).toBeGreaterThanOrEqual(waitMs);
  expect(booted.output()).toContain(`slow-boot: waiting ${waitMs} ms`);
  expect((await selfTest(url)).success).toBe(true);
});

test('slow-boot with a bad FLEETDRILL_SLOW_BOOT_MS exits naming the variable', async () => {
  const booted = await boot(await payloadFile('slow-boot'), {}, { FLEETDRILL_SLOW_BOOT_MS: 'soon' });
  expect(booted.exitCode).toBe(1);
  expect(booted.output()).toContain('FLEETDRILL_SLOW_BOOT_MS must be a whole number of ms, got "soon"');
});

test('no-cloud marks its --disk net-broken and otherwise behaves as good; good leaves no marker', async () => {
  const noCloudDisk = join(work, 'disk-no-cloud');
  const goodDisk = join(work, 'disk-good');
  await mkdir(noCloudDisk);
  await mkdir(goodDisk);

  const noCloud = await boot(await payloadFile('no-cloud'), { disk: noCloudDisk });
  expect(noCloud.url, noCloud.output()).toBeDefined();
  expect(await readdir(noCloudDisk)).toContain('net-broken');
  expect((await getVersion(noCloud.url!)).version).toBe(VERSION);
  expect((await selfTest(noCloud.url!)).success).toBe(true);

  const good = await boot(await payloadFile('good'), { disk: goodDisk });
  expect(good.url, good.output()).toBeDefined();
  expect(await readdir(goodDisk)).toEqual([]);
});
