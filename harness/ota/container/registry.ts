/**
 * A local image registry for the container-image update channel: Debian's `docker-registry`
 * (distribution 2.8) as a child process, listening on 127.0.0.1 at a free port, storing in a
 * folder of its own, without auth. Its folder's name carries the harness's pid, and the folder
 * holds the registry's pid, so the next start removes a dead run's registry and storage.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import createDebug from 'debug';
import { onProcessExit } from '../../core/cleanup.ts';
import { FleetdrillError } from '../../core/errors.ts';
import { freeLoopbackPort } from '../../core/ports.ts';
import { isAlive } from '../../core/process-alive.ts';

const log = createDebug('fleetdrill:container-ota');

/** Where Debian installs the reference registry. */
export const REGISTRY_BINARY = '/usr/bin/docker-registry';
const DIR_PREFIX = 'fleetdrill-registry-';

/** The registry could not start. */
export class RegistryError extends FleetdrillError {}

/** Why a local registry cannot run here, or undefined when it can. */
export function registryUnavailable(binary = REGISTRY_BINARY): string | undefined {
  return existsSync(binary) ? undefined : `no ${binary} (Debian: apt-get install -y docker-registry)`;
}

function isRegistry(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('docker-registry');
  } catch {
    return false;
  }
}

/** Folders of registries whose harness is gone: their registry is killed and the folder removed. Returns how many. */
export function sweepDeadRegistries(root = tmpdir()): number {
  let swept = 0;
  for (const name of readdirSync(root)) {
    const owner = new RegExp(`^${DIR_PREFIX}(\\d+)-`).exec(name)?.[1];
    if (!owner || isAlive(Number(owner))) continue;
    const dir = join(root, name);
    try {
      const pid = Number(readFileSync(join(dir, 'registry.pid'), 'utf8'));
      if (pid > 0 && isRegistry(pid)) process.kill(pid, 'SIGKILL');
    } catch {
      /* no pid file: it never started */
    }
    rmSync(dir, { recursive: true, force: true });
    swept++;
  }
  if (swept) log('removed %d registries of dead runs', swept);
  return swept;
}

/** A running registry. */
export class StartedRegistry {
  #stopped: Promise<void> | undefined;

  constructor(
    /** `127.0.0.1:<port>`: what image references start with. */
    readonly address: string,
    readonly port: number,
    /** The registry's folder: config, pid file, storage. */
    readonly dir: string,
    private readonly child: ChildProcess,
    private readonly unregister: () => void,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  /** Stops the registry and removes its storage. Idempotent. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      if (this.child.exitCode === null && this.child.signalCode === null) {
        const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
        this.child.kill('SIGTERM');
        const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(this.dir, { recursive: true, force: true });
      this.unregister();
    })();
    return this.#stopped;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Starts `docker-registry` on a free loopback port; resolves once `/v2/` answers. */
export async function startRegistry(
  options: { binary?: string; readyTimeoutMs?: number } = {},
): Promise<StartedRegistry> {
  const binary = options.binary ?? REGISTRY_BINARY;
  const missing = registryUnavailable(binary);
  if (missing) throw new RegistryError(`local registry: ${missing}`);
  sweepDeadRegistries();
  const dir = await mkdtemp(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
  const port = await freeLoopbackPort();
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log: { level: warn, accesslog: { disabled: true } }',
      `storage: { filesystem: { rootdirectory: ${join(dir, 'storage')} }, delete: { enabled: true } }`,
      `http: { addr: "127.0.0.1:${port}" }`,
      '',
    ].join('\n'),
  );
  const child = spawn(binary, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const unregister = onProcessExit(() => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const registry = new StartedRegistry(`127.0.0.1:${port}`, port, dir, child, unregister);
  await writeFile(join(dir, 'registry.pid'), String(child.pid));
  const deadline = Date.now() + (options.readyTimeoutMs ?? 15_000);
  try {
    for (;;) {
      if (child.exitCode !== null)
        throw new RegistryError(`docker-registry exited with ${child.exitCode}: ${stderr.trim()}`);
      const ok = await fetch(`http://127.0.0.1:${port}/v2/`, { signal: AbortSignal.timeout(1_000) }).then(
        (response) => response.status === 200,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline)
        throw new RegistryError(
          `docker-registry on port ${port} did not answer /v2/ in time: ${stderr.trim()}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    await registry.stop();
    throw error;
  }
  log('registry on %s (pid %d)', registry.address, child.pid);
  return registry;
}
