/**
 * The container-image update channel, brought up for drills on the local Docker engine:
 *
 * - a registry (`docker-registry`, a child process on 127.0.0.1) holding the run's images;
 * - the fault layer: a Toxiproxy-compatible proxy in front of the registry, the address the
 *   robot pulls from, so dead zones and bandwidth shape the pull;
 * - the fleet cloud (the reference one, in this process) whose deployments carry image artifacts;
 * - the robot: the container updater as a child process in a process group of its own (its power
 *   domain) and the software container it runs.
 *
 * `powerCut()` is what a cut does to a device: SIGKILL of the updater's group and `docker kill`
 * of its software; `powerOn()` starts the updater again. `stop()` removes every process,
 * container, image and folder it made, also after a failure; process exit removes what it can
 * synchronously, and the next start sweeps a dead run's registry, containers and images.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, readdirSync, rmSync, type WriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import createDebug from 'debug';
import {
  APP_LABELS,
  appHealthSchema,
  type AppHealth,
  IMAGE_REFERENCE_KIND,
  UPDATER_STATE_FILE,
  updaterStateSchema,
  type UpdaterState,
} from '../../../protocol/container-update.ts';
import type { DeploymentDetail } from '../../../protocol/ota-cloud.ts';
import { CONTAINER_UPDATER_ENTRY } from '../../../reference/container-updater/index.ts';
import { startFleetCloud, type StartedFleetCloud } from '../../../reference/fleet-cloud/index.ts';
import { onProcessExit } from '../../core/cleanup.ts';
import { ConfigError } from '../../core/errors.ts';
import { deriveSeed, runSeed } from '../../core/seed.ts';
import { FleetOta } from '../../fleet/clients/fleet-ota.ts';
import { checkEngine, dockerClient, LABELS, ownerLabel, removeLeftovers } from '../../fleet/docker/engine.ts';
import { removeContainersNow } from '../../fleet/docker/last-resort.ts';
import { ensureBundle } from '../../fleet/embedded/bundle.ts';
import { ToxiproxyServer, type StartedToxiproxyServer } from '../../net/toxiproxy/index.ts';
import { buildArtifact } from '../build.ts';
import { loadTestKeyPair, TEST_KEYS_DIR } from '../keys.ts';
import { APP_REPOSITORY, ensureAppImage, pushAppImage, type AppVariant } from './app-images.ts';
import { registryUnavailable, startRegistry } from './registry.ts';
import { freeLoopbackPort } from '../../core/ports.ts';
import { isAlive } from '../../core/process-alive.ts';

const log = createDebug('fleetdrill:container-ota');

/** Env var: `host:port` of a registry of the user's to push to and pull from, instead of a local one. */
export const REGISTRY_ENV = 'FLEETDRILL_OTA_REGISTRY';

/** What the rig needs of a registry: where it is, and how to be done with it. */
export interface RegistryEndpoint {
  /** `host:port`, as image references start. */
  readonly address: string;
  /** The local registry's process; undefined for a user's registry. */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** How a rig starts. */
export interface ContainerOtaRigOptions {
  /** Default r01. */
  robotId?: string;
  /** Default derived from the run seed. */
  seed?: number;
  /** `host:port` of the user's registry; default $FLEETDRILL_OTA_REGISTRY, else a local `docker-registry`. */
  registry?: string;
}

/** A `host:port` registry address, checked; undefined stays undefined (a local registry). */
export function parseRegistryAddress(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (
    !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?:\d{1,5}$/.test(value) ||
    Number(value.split(':')[1]) > 65535
  ) {
    throw new ConfigError(
      REGISTRY_ENV,
      `must be host:port of a registry (such as 10.0.0.5:5000), got '${value}'`,
    );
  }
  return value;
}

/** Bytes of each pushed image's run stamp: what a pull must fetch through the fault layer. */
export const STAMP_BYTES = 4 * 1024 * 1024;
/** The version the robot runs before any drill. */
export const FACTORY_VERSION = '1.0.0';

/** Why the container channel cannot run here (no engine, no registry binary), or undefined. */
export async function containerOtaUnavailable(): Promise<string | undefined> {
  const registry = registryUnavailable();
  if (registry) return registry;
  try {
    await checkEngine(dockerClient());
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

function docker(args: readonly string[], timeoutMs = 60_000): string {
  const result = spawnSync('docker', args, { encoding: 'utf8', timeout: timeoutMs });
  if (result.status !== 0)
    throw new Error(`docker ${args.slice(0, 2).join(' ')}: ${(result.stderr ?? '').trim()}`);
  return result.stdout;
}

/** A software container of the robot, as the engine lists it. */
export interface AppContainer {
  name: string;
  image: string;
  running: boolean;
}

/** Removes images (pulled by the robot) whose run's owner is gone, by their owner label. Returns how many. */
export function sweepDeadRunImages(): number {
  const host = hostname();
  const listed = docker([
    'image',
    'ls',
    '--filter',
    `label=${LABELS.managed}=true`,
    '--format',
    '{{.Repository}}:{{.Tag}}',
  ])
    .split('\n')
    .filter((ref) => ref && !ref.includes('<none>'));
  let swept = 0;
  for (const ref of listed) {
    // `docker image ls` cannot print labels on every engine version; inspect can.
    const owner = spawnSync(
      'docker',
      ['image', 'inspect', '--format', `{{index .Config.Labels "${LABELS.owner}"}}`, ref],
      {
        encoding: 'utf8',
      },
    ).stdout.trim();
    const [ownerHost, pid] = owner.split(':');
    if (ownerHost !== host || !pid || isAlive(Number(pid))) continue;
    spawnSync('docker', ['image', 'rm', '--force', ref], { stdio: 'ignore' });
    swept++;
  }
  return swept;
}

const RIG_DIR_PREFIX = 'fleetdrill-container-ota-';

/** Removes the folders (robot disk, cloud data) of rigs whose harness process is gone. Returns how many. */
export function sweepDeadRigDirs(root = tmpdir()): number {
  let swept = 0;
  for (const name of readdirSync(root)) {
    const owner = new RegExp(`^${RIG_DIR_PREFIX}(\\d+)-`).exec(name)?.[1];
    if (!owner || isAlive(Number(owner))) continue;
    rmSync(join(root, name), { recursive: true, force: true });
    swept++;
  }
  return swept;
}

/** The started channel; see the file comment. */
export class ContainerOtaRig {
  readonly run = `fd-${process.pid}-${randomBytes(3).toString('hex')}`;
  readonly device: string;
  readonly labels: Record<string, string>;
  readonly ota: FleetOta;
  #updater: ChildProcess | undefined;
  #updaterLog: WriteStream | undefined;
  #updaterLines: string[] = [];
  #stopping: Promise<void> | undefined;
  readonly #unregister: () => void;
  #images = new Set<string>();
  #factory = '';

  private constructor(
    readonly robotId: string,
    readonly dir: string,
    /** The run's registry, or the user's ({@link REGISTRY_ENV}). */
    readonly registry: RegistryEndpoint,
    readonly faults: StartedToxiproxyServer,
    /** `127.0.0.1:<port>`: the fault layer's proxy to the registry, where the robot pulls from. */
    readonly pullAddress: string,
    readonly cloud: StartedFleetCloud,
    readonly seed: number,
  ) {
    this.device = `${this.run}-${robotId}`;
    this.labels = { [LABELS.managed]: 'true', [LABELS.run]: this.run, [LABELS.owner]: ownerLabel() };
    this.ota = new FleetOta(cloud.httpUrl);
    // Only synchronous work runs at exit: the containers, the run's images, the updater's group.
    this.#unregister = onProcessExit(() => {
      if (this.#updater?.pid) killGroup(this.#updater.pid);
      const ids = spawnSync('docker', ['ps', '-aq', '--filter', `label=${LABELS.run}=${this.run}`], {
        encoding: 'utf8',
      }).stdout;
      removeContainersNow((ids ?? '').split('\n').filter(Boolean));
      spawnSync('docker', ['image', 'rm', '--force', ...this.#images], { stdio: 'ignore' });
      rmSync(this.dir, { recursive: true, force: true });
    });
  }

  /** Starts registry, fault layer and cloud, pushes the factory image and powers the robot on. */
  static async start(options: ContainerOtaRigOptions = {}): Promise<ContainerOtaRig> {
    const robotId = options.robotId ?? 'r01';
    const external = parseRegistryAddress(options.registry ?? process.env[REGISTRY_ENV]);
    const seed = options.seed ?? deriveSeed(runSeed(), 'container-ota', robotId);
    await removeLeftovers(dockerClient());
    sweepDeadRunImages();
    sweepDeadRigDirs();
    const dir = await mkdtemp(join(tmpdir(), `${RIG_DIR_PREFIX}${process.pid}-`));
    const started: Array<{ stop(): Promise<void> }> = [];
    try {
      const registry: RegistryEndpoint = external
        ? { address: external, pid: undefined, stop: () => Promise.resolve() }
        : await startRegistry();
      started.push(registry);
      const proxyPort = await freeLoopbackPort();
      const faults = await new ToxiproxyServer({
        seed: deriveSeed(seed, 'faults'),
        proxies: [{ name: 'registry', listen: `127.0.0.1:${proxyPort}`, upstream: registry.address }],
      }).start();
      started.push(faults);
      const cloud = await startFleetCloud({ dataDir: join(dir, 'cloud') });
      started.push(cloud);
      const rig = new ContainerOtaRig(robotId, dir, registry, faults, `127.0.0.1:${proxyPort}`, cloud, seed);
      started.length = 0;
      try {
        rig.#factory = await rig.push('good', FACTORY_VERSION);
        await rig.powerOn();
      } catch (error) {
        await rig.stop();
        throw error;
      }
      return rig;
    } catch (error) {
      for (const handle of started.reverse()) await handle.stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * Builds (once) and pushes the variant at `version` as `<version>-<variant>-<run>` (a shared
   * registry may serve several runs at once); returns the reference the robot pulls, through
   * the fault layer.
   */
  async push(variant: AppVariant, version: string): Promise<string> {
    const image = await ensureAppImage(variant);
    const tag = `${version}-${variant}-${this.run}`;
    await pushAppImage({
      image,
      version,
      registry: this.registry.address,
      tag,
      seed: Buffer.from(`${this.seed}`),
      stampBytes: STAMP_BYTES,
      labels: this.labels,
    });
    return this.imageRef(tag);
  }

  /** The reference the robot pulls for `tag`; the tag need not exist (an image missing from the registry). */
  imageRef(tag: string): string {
    const ref = `${this.pullAddress}/${APP_REPOSITORY}:${tag}`;
    this.#images.add(ref);
    return ref;
  }

  /** Uploads a signed artifact naming `image` and deploys it to the robot. */
  async deploy(image: string, name: string): Promise<DeploymentDetail> {
    const out = join(this.dir, `artifact-${randomBytes(4).toString('hex')}.fdart`);
    await buildArtifact({
      name: 'robot-app',
      version: /:(\d+\.\d+\.\d+)/.exec(image)?.[1] ?? '0.0.1',
      compatibleModels: ['fd-amr-1'],
      payload: Buffer.from(JSON.stringify({ kind: IMAGE_REFERENCE_KIND, image })),
      privateKey: loadTestKeyPair('test-ota').privateKey,
      out,
    });
    const info = await this.ota.upload(out);
    await rm(out, { force: true });
    return this.ota.deploy({ name, artifactId: info.id, robots: [this.robotId] });
  }

  /** Starts the updater (power-on); resolves once it has reconciled its containers with its state. */
  async powerOn(): Promise<void> {
    if (this.#updater) throw new Error(`robot ${this.robotId}: already on`);
    const bundle = await ensureBundle(CONTAINER_UPDATER_ENTRY, 'container-updater');
    const args = [
      '--enable-source-maps',
      bundle,
      `--robot=${this.robotId}`,
      `--cloud=${this.cloud.httpUrl}`,
      `--state-dir=${join(this.dir, 'disk')}`,
      `--device=${this.device}`,
      `--initial-image=${this.#factory}`,
      `--public-key=${join(TEST_KEYS_DIR, 'test-ota.pub')}`,
      '--poll-ms=300',
      '--lifeline',
      ...Object.entries(this.labels).map(([key, value]) => `--label=${key}=${value}`),
    ];
    this.#updaterLog ??= createWriteStream(join(this.dir, 'updater.log'), { flags: 'a' });
    // Its own process group: a power cut kills it with the docker commands it runs. Its stdin is
    // a lifeline: should this process die without a teardown, the updater ends too.
    const child = spawn(process.execPath, args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    this.#updater = child;
    const logStream = this.#updaterLog;
    createInterface({ input: child.stderr }).on('line', (line) => {
      this.#updaterLines.push(line);
      logStream.write(`${line}\n`);
      log('%s: %s', this.robotId, line);
    });
    const ready = new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (line.includes('"ready"')) resolve();
      });
      child.once('exit', (code, signal) =>
        reject(
          new Error(
            `robot ${this.robotId}: the updater exited (${signal ?? code}) before it was ready: ${this.#updaterLines.slice(-3).join(' / ')}`,
          ),
        ),
      );
    });
    await ready;
  }

  /** A power cut: SIGKILL of the updater's process group and `docker kill` of the robot's software. */
  async powerCut(): Promise<void> {
    const child = this.#updater;
    if (!child?.pid) throw new Error(`robot ${this.robotId}: already off`);
    const exited = new Promise<void>((resolve) =>
      child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()),
    );
    killGroup(child.pid);
    const running = docker(['ps', '-q', '--filter', `label=${APP_LABELS.robot}=${this.device}`])
      .split('\n')
      .filter(Boolean);
    if (running.length) spawnSync('docker', ['kill', ...running], { stdio: 'ignore' });
    await exited;
    this.#updater = undefined;
  }

  /** Lines the updater logged so far. */
  updaterLog(): readonly string[] {
    return this.#updaterLines;
  }

  /** The robot's software containers, running or not. */
  containers(): AppContainer[] {
    const out = docker([
      'ps',
      '--all',
      '--filter',
      `label=${APP_LABELS.robot}=${this.device}`,
      '--format',
      `{{.Names}}\t{{.Label "${APP_LABELS.image}"}}\t{{.State}}`,
    ]);
    return out
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [name = '', image = '', state = ''] = line.split('\t');
        return { name, image, running: state === 'running' };
      });
  }

  /** What the software in container `name` last answered its health check, or undefined. */
  softwareHealth(name: string): AppHealth | undefined {
    const result = spawnSync('docker', ['inspect', '--format', '{{json .State.Health}}', name], {
      encoding: 'utf8',
    });
    if (result.status !== 0) return undefined;
    try {
      const health = JSON.parse(result.stdout) as { Log?: Array<{ Output: string }> } | null;
      const parsed = appHealthSchema.safeParse(JSON.parse(health?.Log?.at(-1)?.Output.split('\n')[0] ?? ''));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /** The updater's state file, or undefined before it wrote one. */
  async updaterState(): Promise<UpdaterState | undefined> {
    try {
      return updaterStateSchema.parse(
        JSON.parse(await readFile(join(this.dir, 'disk', UPDATER_STATE_FILE), 'utf8')),
      );
    } catch {
      return undefined;
    }
  }

  /** True when the engine holds `image`. */
  hasImage(image: string): boolean {
    return spawnSync('docker', ['image', 'inspect', image], { stdio: 'ignore' }).status === 0;
  }

  /** The registry link goes down (a dead zone): every connection is cut and none is taken. */
  async registryLink(enabled: boolean): Promise<void> {
    await this.#api('POST', '/proxies/registry', { enabled });
  }

  /** Limits the registry link's bandwidth towards the robot (KB/s), or lifts the limit (undefined). */
  async registryBandwidth(rateKBps: number | undefined): Promise<void> {
    if (rateKBps === undefined) {
      await this.#api('DELETE', '/proxies/registry/toxics/bandwidth');
      return;
    }
    await this.#api('POST', '/proxies/registry/toxics', {
      name: 'bandwidth',
      type: 'bandwidth',
      stream: 'downstream',
      toxicity: 1,
      attributes: { rate: rateKBps },
    });
  }

  async #api(method: string, path: string, body?: unknown): Promise<void> {
    const response = await fetch(`${this.faults.url}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`fault layer ${method} ${path}: HTTP ${response.status} ${text}`);
  }

  /** Stops the robot and removes everything the rig made. Idempotent; keeps going past failures. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#updater) await this.powerCut().catch(() => undefined);
      const ids = docker(['ps', '-aq', '--filter', `label=${LABELS.run}=${this.run}`])
        .split('\n')
        .filter(Boolean);
      if (ids.length) spawnSync('docker', ['rm', '--force', ...ids], { stdio: 'ignore' });
      const images = docker([
        'image',
        'ls',
        '--filter',
        `label=${LABELS.run}=${this.run}`,
        '--format',
        '{{.Repository}}:{{.Tag}}',
      ]);
      const refs = [
        ...new Set([...this.#images, ...images.split('\n').filter((ref) => ref && !ref.endsWith('<none>'))]),
      ];
      if (refs.length) spawnSync('docker', ['image', 'rm', '--force', ...refs], { stdio: 'ignore' });
      await this.cloud.stop().catch(() => undefined);
      await this.faults.stop().catch(() => undefined);
      await this.registry.stop().catch(() => undefined);
      this.#updaterLog?.end();
      await rm(this.dir, { recursive: true, force: true });
      this.#unregister();
    })();
    return this.#stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}
