/**
 * The Docker engine as the docker backend sees it: one dockerode client, a check that the
 * engine answers (with a message that says what to do when it does not), and the labels every
 * container and network of a run carries so that leftovers can be found and removed.
 */
import { hostname } from 'node:os';
import createDebug from 'debug';
import Dockerode from 'dockerode';
import { FleetdrillError, settleAll } from '../../core/errors.ts';
import { isAlive } from '../../core/process-alive.ts';
import type { EngineSpec } from './engines.ts';

const log = createDebug('fleetdrill:docker');

// testcontainers' reaper (Ryuk) is an image from a registry; here nothing can be pulled, so the
// backend removes what it made itself. Set before testcontainers first looks.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

/** The Docker engine is missing, not running or not reachable. */
export class DockerUnavailableError extends FleetdrillError {}

/** Labels: every container and network a docker fleet makes has all of these. */
export const LABELS = {
  /** Marks fleetdrill's own objects. */
  managed: 'fleetdrill.managed',
  /** The run (one fleet) an object belongs to. */
  run: 'fleetdrill.run',
  /** Host and pid of the harness process that made it: a dead owner means a leftover. */
  owner: 'fleetdrill.owner',
  /** robot, cloud or toxiproxy. */
  role: 'fleetdrill.role',
  /** The robot id, on robot containers. */
  robot: 'fleetdrill.robot',
} as const;

/** This process as an owner label value: `host:pid`. */
export function ownerLabel(): string {
  return `${hostname()}:${process.pid}`;
}

/** The engine client; DOCKER_HOST and friends are honoured as the docker CLI does. */
export function dockerClient(): Dockerode {
  return new Dockerode();
}

/** A client for one engine of a fleet's list (the default engine's is {@link dockerClient}'s). */
export function engineClient(engine: EngineSpec): Dockerode {
  return new Dockerode(engine.client);
}

/**
 * Resolves when the engine answers; throws a DockerUnavailableError that says what to do. `where`
 * names the engine in the message (default: DOCKER_HOST, else the default socket).
 */
export async function checkEngine(
  docker: Dockerode,
  where = process.env.DOCKER_HOST ?? '/var/run/docker.sock',
): Promise<void> {
  try {
    await docker.ping();
  } catch (error) {
    const cause = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new DockerUnavailableError(
      `backend docker: no Docker engine answers at ${where} (${cause}). ` +
        'Install one (Debian: apt-get install -y docker.io) and start it (systemctl start docker, ' +
        'or dockerd & as root), or run on the embedded backend (--backend embedded).',
    );
  }
}

/** True when the process that owns an object is gone: its run crashed or was killed. */
function ownerIsGone(owner: string | undefined): boolean {
  if (!owner) return true;
  const [host, pid] = owner.split(':');
  // Another machine's run (a shared engine) is not ours to judge.
  if (host !== hostname()) return false;
  return !isAlive(Number(pid));
}

/**
 * Removes the containers and networks of runs whose harness process is gone (killed, crashed,
 * power lost): testcontainers' reaper would have, had it been able to start. Runs of live
 * processes, such as parallel test workers, are left alone. Returns what was removed.
 */
export async function removeLeftovers(docker: Dockerode): Promise<{ containers: number; networks: number }> {
  const filters = { label: [`${LABELS.managed}=true`] };
  const containers = (await docker.listContainers({ all: true, filters })).filter((info) =>
    ownerIsGone(info.Labels[LABELS.owner]),
  );
  await settleAll(containers.map((info) => docker.getContainer(info.Id).remove({ force: true, v: true })));
  const networks = (await docker.listNetworks({ filters })).filter((info) =>
    ownerIsGone(info.Labels?.[LABELS.owner]),
  );
  await settleAll(networks.map((info) => docker.getNetwork(info.Id).remove()));
  if (containers.length || networks.length) {
    log('removed leftovers of crashed runs: %d containers, %d networks', containers.length, networks.length);
  }
  return { containers: containers.length, networks: networks.length };
}

/** What a run's objects are labelled with, by run id. */
export async function listRunObjects(
  docker: Dockerode,
  run: string,
): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
  const filters = { label: [`${LABELS.run}=${run}`] };
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
    docker.listVolumes({ filters }),
  ]);
  return {
    containers: containers.map((info) => info.Names[0] ?? info.Id),
    networks: networks.map((info) => info.Name),
    volumes: (volumes.Volumes ?? []).map((info) => info.Name),
  };
}
