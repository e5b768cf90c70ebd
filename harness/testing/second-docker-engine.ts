/**
 * A second Docker engine on this machine, beside the one already running, for tests of fleets
 * over several engines: its own socket, data root, exec root, pid file, containerd namespaces,
 * bridge and address pool, so it shares nothing with the first but the kernel. It leaves
 * iptables to the first engine (two engines rewriting the same DOCKER chains fight); its
 * published ports go through docker-proxy, which is all a fleet needs (docs/docker-engines.md).
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';
import { onProcessExit } from '../core/cleanup.ts';
import { isAlive } from '../fleet/run-dir.ts';

const run = promisify(execFile);

/** Why a second engine cannot start here, or undefined when it can. */
export function secondEngineUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'a second dockerd needs root (ip link, dockerd)';
  const dockerd = spawnSync('dockerd', ['--version'], { encoding: 'utf8' });
  if (dockerd.error) return `no dockerd binary on PATH (${dockerd.error.message}); apt-get install docker.io`;
  if (spawnSync('ip', ['-V']).error) return 'no ip binary (iproute2) to make the engine its bridge';
  return undefined;
}

/** A running second engine; `stop()` removes everything it made. */
export interface SecondDockerEngine {
  /** `unix:///…/docker.sock`, as `--docker-host` takes it. */
  readonly url: string;
  readonly docker: Dockerode;
  /** The dockerd log, for a failure's message. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/**
 * Starts `dockerd` in a fresh folder under /tmp (socket paths are short) and waits until it
 * answers. Its bridge and address pool are picked from this process's id, so two test processes
 * do not collide; a start that fails removes what it made and says why, with the log's tail.
 */
export async function startSecondDockerEngine(): Promise<SecondDockerEngine> {
  await sweepDeadEngines();
  const dir = mkdtempSync(`/tmp/fd-engine-${process.pid}-`);
  const bridge = bridgeOf(process.pid);
  // One slot per test process: 10.99.<slot>.0/24 for the bridge, 10.<100 + slot>.0.0/16 for its networks.
  const slot = process.pid % 150;
  const logPath = join(dir, 'dockerd.log');
  const logTail = (lines = 15): string =>
    existsSync(logPath) ? readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '';
  let daemon: ChildProcess | undefined;
  // A worker that dies before stop() still takes its engine along: dockerd ends its containers on SIGTERM.
  const unregister = onProcessExit(() => daemon?.kill('SIGTERM'));
  const stop = async (): Promise<void> => {
    unregister();
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
      const exited = new Promise((resolve) => daemon!.once('exit', resolve));
      daemon.kill('SIGTERM');
      // dockerd stops its containers (10 s grace each, in parallel) and its containerd first.
      const late = setTimeout(() => daemon?.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(late);
    }
    await run('ip', ['link', 'del', bridge]).catch(() => {});
    removeEngineDir(dir);
  };
  try {
    await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
    await run('ip', ['addr', 'add', `10.99.${slot}.1/24`, 'dev', bridge]);
    await run('ip', ['link', 'set', bridge, 'up']);
    const socket = join(dir, 'docker.sock');
    const log = openSync(logPath, 'a');
    daemon = spawn(
      'dockerd',
      [
        `--host=unix://${socket}`,
        `--data-root=${join(dir, 'data')}`,
        `--exec-root=${join(dir, 'exec')}`,
        `--pidfile=${join(dir, 'docker.pid')}`,
        `--bridge=${bridge}`,
        '--iptables=false',
        '--ip-masq=false',
        `--containerd-namespace=fd-${process.pid}`,
        `--containerd-plugins-namespace=fd-${process.pid}-plugins`,
        // Its run networks must not take the subnets the first engine hands out (172.17-31/16).
        `--default-address-pool=base=10.${100 + slot}.0.0/16,size=24`,
      ],
      { stdio: ['ignore', log, log] },
    );
    const docker = new Dockerode({ socketPath: socket });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (daemon.exitCode !== null) throw new Error(`dockerd exited (${daemon.exitCode})`);
      if (
        await docker.ping().then(
          () => true,
          () => false,
        )
      )
        break;
      if (Date.now() > deadline) throw new Error('dockerd did not answer within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return { url: `unix://${socket}`, docker, logTail, stop };
  } catch (error) {
    const tail = logTail();
    await stop();
    throw new Error(`second dockerd: ${(error as Error).message}${tail ? `\n${tail}` : ''}`, {
      cause: error,
    });
  }
}

function bridgeOf(pid: number): string {
  return `fdbr-${pid % 10_000_000}`;
}

/** Removes an engine's folder; whatever dockerd left mounted under it would stop the removal half-way. */
function removeEngineDir(dir: string): void {
  spawnSync('sh', ['-c', `grep -o " ${dir}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`]);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Ends the engines of test processes that died without stopping theirs (SIGKILL): their dockerd,
 * bridge and folder. A dockerd whose test is gone has nothing left to serve.
 */
async function sweepDeadEngines(): Promise<void> {
  for (const name of readdirSync('/tmp')) {
    const match = /^fd-engine-(\d+)-/.exec(name);
    if (!match || isAlive(Number(match[1]))) continue;
    const dir = join('/tmp', name);
    const pidFile = join(dir, 'docker.pid');
    const daemon = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : undefined;
    if (daemon && isAlive(daemon)) {
      // SIGTERM, so that it takes its containerd and containers along; SIGKILL if it will not go.
      process.kill(daemon, 'SIGTERM');
      const deadline = Date.now() + 20_000;
      while (isAlive(daemon) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 200));
      if (isAlive(daemon)) process.kill(daemon, 'SIGKILL');
    }
    spawnSync('ip', ['link', 'del', bridgeOf(Number(match[1]))]);
    removeEngineDir(dir);
  }
}
