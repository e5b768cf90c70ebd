/**
 * The Docker engines a docker fleet spreads over: their URLs (`--docker-host`,
 * FLEETDRILL_DOCKER_HOSTS, the `dockerHosts` fleet option), a client for each, and which robot
 * runs on which. See docs/docker-engines.md.
 */
// Types only: the CLI parses --docker-host with this module, and must not pay for loading dockerode.
import type Dockerode from 'dockerode';
import { ConfigError } from '../../core/errors.ts';

/** Env var: the engines a docker fleet spreads over, comma-separated URLs. */
export const DOCKER_HOSTS_ENV = 'FLEETDRILL_DOCKER_HOSTS';

/**
 * Env var: a folder that every other host of the fleet mounts at the same path. Robots' disks
 * are bind mounts of the run dir, so an engine on another host can run robots only when the run
 * dir (under $TMPDIR) lies inside such a folder.
 */
export const SHARED_DIR_ENV = 'FLEETDRILL_DOCKER_SHARED_DIR';

/** One engine as given. */
export interface EngineSpec {
  /** The URL without its weight: `unix:///var/run/docker.sock`, `tcp://10.0.0.5:2375`, `ssh://ci@rack2`. */
  url: string;
  /** Robots it gets per round of placement, relative to the other engines (`url=3`; default 1). */
  weight: number;
  /** Another machine's name or address; undefined for an engine of this machine. */
  remoteHost: string | undefined;
  /** How dockerode reaches it; undefined: as the docker CLI would (DOCKER_HOST, else the default socket). */
  client: Dockerode.DockerOptions | undefined;
}

/** The engine testcontainers and the docker CLI use: DOCKER_HOST, else the default socket. */
export function defaultEngineUrl(): string {
  return process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[?::1\]?)$/;

/**
 * Parses one engine entry, `URL` or `URL=weight`. `field` names where it came from in errors
 * (`--docker-host`, FLEETDRILL_DOCKER_HOSTS[1], `dockerHosts[0]`).
 */
export function parseEngine(entry: string, field: string): EngineSpec {
  const weighted = /^(.*)=(\d+)$/.exec(entry.trim());
  const url = weighted ? weighted[1]! : entry.trim();
  const weight = weighted ? Number(weighted[2]) : 1;
  if (weight < 1) throw new ConfigError(field, `${entry}: the weight after '=' must be >= 1`);
  const usage = 'must be unix:///path/to/docker.sock, tcp://host:port or ssh://user@host[:port]';
  if (url === defaultEngineUrl()) return { url, weight, remoteHost: undefined, client: undefined };
  if (url.startsWith('unix://')) {
    const socketPath = url.slice('unix://'.length);
    if (!socketPath.startsWith('/'))
      throw new ConfigError(field, `${entry}: the socket path must be absolute; ${usage}`);
    return { url, weight, remoteHost: undefined, client: { socketPath } };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(field, `${JSON.stringify(entry)} ${usage}`);
  }
  const host = parsed.hostname;
  const remoteHost = LOOPBACK.test(host) ? undefined : host;
  if (parsed.protocol === 'tcp:' && host && parsed.port) {
    // dockerode speaks TLS only with certificates it is given; an engine on 2376 expects TLS.
    const protocol = parsed.port === '2376' || process.env.DOCKER_TLS_VERIFY === '1' ? 'https' : 'http';
    if (protocol === 'https') {
      throw new ConfigError(
        field,
        `${entry}: TLS engines are not supported here; expose the engine over ssh:// instead`,
      );
    }
    return { url, weight, remoteHost, client: { protocol, host, port: Number(parsed.port) } };
  }
  if (parsed.protocol === 'ssh:' && host) {
    return {
      url,
      weight,
      remoteHost,
      client: {
        protocol: 'ssh',
        host,
        port: parsed.port ? Number(parsed.port) : 22,
        username: parsed.username || undefined,
        sshOptions: { agent: process.env.SSH_AUTH_SOCK },
      },
    };
  }
  throw new ConfigError(field, `${JSON.stringify(entry)} ${usage}`);
}

/**
 * The engines of a fleet: `given` (the fleet option or `--docker-host`), else
 * FLEETDRILL_DOCKER_HOSTS, else the one engine the docker CLI would use. The first is home: the
 * fault layer and the cloud run there. The same URL twice is an error, as it would double-book
 * one engine's ports and names. `givenAs` names `given` in errors (`--docker-host`).
 */
export function resolveEngines(given: readonly string[] | undefined, givenAs = 'dockerHosts'): EngineSpec[] {
  const fromEnv = process.env[DOCKER_HOSTS_ENV];
  const [entries, field] =
    given && given.length
      ? [given, givenAs]
      : fromEnv
        ? [fromEnv.split(',').filter((entry) => entry.trim()), DOCKER_HOSTS_ENV]
        : [[defaultEngineUrl()], 'DOCKER_HOST'];
  const engines = entries.map((entry, index) => parseEngine(entry, `${field}[${index}]`));
  const seen = new Set<string>();
  engines.forEach((engine, index) => {
    if (seen.has(engine.url)) throw new ConfigError(`${field}[${index}]`, `${engine.url} is listed twice`);
    seen.add(engine.url);
  });
  return engines;
}

/**
 * Which engine each robot runs on, by robot index: smooth weighted round-robin, so equal weights
 * give plain round-robin (r01 on the first engine, r02 on the second, ...) and the same fleet
 * always lands the same way.
 */
export function placeRobots(robots: number, weights: readonly number[]): number[] {
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const current = weights.map(() => 0);
  const placement: number[] = [];
  for (let robot = 0; robot < robots; robot++) {
    let best = 0;
    for (let engine = 0; engine < weights.length; engine++) {
      current[engine]! += weights[engine]!;
      if (current[engine]! > current[best]!) best = engine;
    }
    current[best]! -= total;
    placement.push(best);
  }
  return placement;
}

/**
 * How the other engines reach ports published on an engine: bound on `bind`, dialled at `address`.
 */
export interface Crossing {
  bind: string;
  address: string;
}

/** An engine's run network as its engine reports it. */
export interface RunNetwork {
  name: string;
  subnet: string | undefined;
  gateway: string | undefined;
}

/**
 * How links cross between a run's engines. All on this machine: each engine's run network
 * gateway, a host address that containers of every engine reach through the host's input path
 * and that no other machine routes to; two run networks with one subnet would make it ambiguous,
 * and are an error naming both engines. Any engine elsewhere: every engine binds on all its
 * addresses and is reached by its host's name (`thisHost` for this machine's engines).
 */
export function crossingsOf(
  engines: ReadonlyArray<{ spec: EngineSpec; network: RunNetwork | undefined }>,
  thisHost: string,
): Crossing[] {
  if (engines.some((engine) => engine.spec.remoteHost)) {
    return engines.map((engine) => ({ bind: '0.0.0.0', address: engine.spec.remoteHost ?? thisHost }));
  }
  const subnets = new Map<string, string>();
  return engines.map(({ spec, network }) => {
    if (!network?.gateway || !network.subnet) {
      throw new ConfigError(
        'dockerHosts',
        `${spec.url}: run network ${network?.name ?? '(none)'} has no subnet and gateway address`,
      );
    }
    const other = subnets.get(network.subnet);
    if (other) {
      throw new ConfigError(
        'dockerHosts',
        `${spec.url}: its run network got subnet ${network.subnet}, as ${other}'s did; ` +
          'engines on one machine need address pools of their own (dockerd --default-address-pool)',
      );
    }
    subnets.set(network.subnet, spec.url);
    return { bind: network.gateway, address: network.gateway };
  });
}

/**
 * An engine on another host runs robots whose disks are bind mounts of this machine's run dir:
 * that works only where the run dir is a shared mount at the same path. Throws, naming the engine
 * and what to do, unless FLEETDRILL_DOCKER_SHARED_DIR holds the run dir.
 */
export function checkRemoteEngine(engine: EngineSpec, runDir: string): void {
  if (!engine.remoteHost) return;
  const shared = process.env[SHARED_DIR_ENV];
  if (shared && (runDir === shared || runDir.startsWith(`${shared.replace(/\/$/, '')}/`))) return;
  throw new ConfigError(
    'dockerHosts',
    `${engine.url} is on another host (${engine.remoteHost}): its robots' disks are bind mounts of the run dir ${runDir}, ` +
      `which that host does not have. Mount one folder at the same path on every host, point TMPDIR inside it, ` +
      `and name it in ${SHARED_DIR_ENV}${shared ? ` (now ${shared}, which does not hold the run dir)` : ''}.`,
  );
}
