/* Each variant's payload, run as a slot would run it (plain node, no tsx), does what its name says over real rosbridge. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect, test } from '@playwright/test';
import { Ros, Service } from 'roslib';
import { REPO_ROOT } from '../fleet/embedded/bundle.ts';
import { buildRobotVariant, payloadRange, type RobotVariant } from './index.ts';

const VERSION = '1.4.2';
const SLOT = 4 * 1024 * 1024;
// The bundle cannot find the shipped worlds by name, so it gets a path, as a robot host gives it.
const WORLD = join(REPO_ROOT, 'fixtures/worlds/warehouse.json');

let work: string;
const children = new Set<ChildProcess>();
test.beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'fd-ota-behaviour-'));
});
test.afterEach(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
  }
  children.clear();
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
  child: ChildProcess;
  /** The ready line's url, or undefined when the process exited first. */
  url?: string;
  /** Wall ms from spawn to ready (or exit). */
  ms: number;
  exitCode: number | null;
  stderr: () => string;
}

/** Starts a payload with node and waits for its ready line or its exit. */
async function boot(
  payload: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 20_000,
): Promise<Booted> {
  const started = performance.now();
  const child = spawn(process.execPath, [payload, '--id', 'r01', '--world', WORLD, '--seed', '3', ...args], {
    cwd: work,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = (async () => {
    for await (const line of createInterface({ input: child.stdout })) {
      const parsed = JSON.parse(line) as { event?: string; url?: string };
      if (parsed.event === 'ready') return parsed.url;
    }
    return undefined;
  })();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${payload} neither got ready nor exited in ${timeoutMs} ms: ${stderr}`)),
      timeoutMs,
    );
  });
  try {
    const first = await Promise.race([
      ready.then((url) => ({ url })),
      exited.then((code) => ({ code })),
      timeout,
    ]);
    const ms = performance.now() - started;
    if ('url' in first && first.url !== undefined) {
      return { child, url: first.url, ms, exitCode: null, stderr: () => stderr };
    }
    return { child, ms, exitCode: await exited, stderr: () => stderr };
  } finally {
    clearTimeout(timer);
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
  test(`${variant} serves its built version, passes its self-test and ignores --version`, async () => {
    const booted = await boot(await payloadFile(variant), ['--version', '0.0.1']);
    expect(booted.url, booted.stderr()).toBeDefined();
    expect(await getVersion(booted.url!)).toEqual({ version: VERSION, model: 'fd-amr-1', robot_id: 'r01' });
    expect(await selfTest(booted.url!)).toEqual({
      success: true,
      message: 'lidar, imu, battery, e-stop: ok',
    });
  });
}

test('fails-self-test boots but its self-test fails, naming the failure', async () => {
  const booted = await boot(await payloadFile('fails-self-test'));
  expect(booted.url, booted.stderr()).toBeDefined();
  expect((await getVersion(booted.url!)).version).toBe(VERSION);
  const result = await selfTest(booted.url!);
  expect(result.success).toBe(false);
  expect(result.message).toContain('fails-self-test');
});

test('crashes-on-boot logs a line and exits 70 without ever listening', async () => {
  const booted = await boot(await payloadFile('crashes-on-boot'));
  expect(booted.url).toBeUndefined();
  expect(booted.exitCode).toBe(70);
  expect(booted.stderr()).toMatch(/crashes-on-boot.*70/);
});

test('slow-boot does not listen until FLEETDRILL_SLOW_BOOT_MS have passed, then works', async () => {
  const port = await freePort();
  const url = `ws://127.0.0.1:${port}`;
  const waitMs = 2500;
  const booting = boot(await payloadFile('slow-boot'), ['--port', String(port)], {
    FLEETDRILL_SLOW_BOOT_MS: String(waitMs),
  });
  await new Promise((resolve) => setTimeout(resolve, waitMs / 2));
  expect(await accepts(url), 'listening half-way through the slow boot').toBe(false);
  const booted = await booting;
  expect(booted.url, booted.stderr()).toBe(url);
  expect(booted.ms).toBeGreaterThanOrEqual(waitMs);
  expect(booted.stderr()).toContain(`slow-boot: waiting ${waitMs} ms`);
  expect((await selfTest(url)).success).toBe(true);
});

test('slow-boot with a bad FLEETDRILL_SLOW_BOOT_MS exits naming the variable', async () => {
  const booted = await boot(await payloadFile('slow-boot'), [], { FLEETDRILL_SLOW_BOOT_MS: 'soon' });
  expect(booted.exitCode).toBe(1);
  expect(booted.stderr()).toContain('FLEETDRILL_SLOW_BOOT_MS must be a whole number of ms, got "soon"');
});

test('no-cloud marks its --disk net-broken and otherwise behaves as good; good leaves no marker', async () => {
  const noCloudDisk = join(work, 'disk-no-cloud');
  const goodDisk = join(work, 'disk-good');
  await mkdir(noCloudDisk);
  await mkdir(goodDisk);

  const noCloud = await boot(await payloadFile('no-cloud'), ['--disk', noCloudDisk]);
  expect(noCloud.url, noCloud.stderr()).toBeDefined();
  expect(await readdir(noCloudDisk)).toContain('net-broken');
  expect((await getVersion(noCloud.url!)).version).toBe(VERSION);
  expect((await selfTest(noCloud.url!)).success).toBe(true);

  const withoutDisk = await boot(join(work, 'no-cloud.mjs'));
  expect(withoutDisk.url, withoutDisk.stderr()).toBeDefined();

  const good = await boot(await payloadFile('good'), ['--disk', goodDisk]);
  expect(good.url, good.stderr()).toBeDefined();
  expect(await readdir(goodDisk)).toEqual([]);
});
