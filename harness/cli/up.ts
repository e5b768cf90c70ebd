import Table from 'cli-table3';
import { loadConfig, parseBackend, parseCount, parsePositive } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { EventBus } from '../core/events.ts';
import { parseSeed, runSeed } from '../core/seed.ts';
import { Fleet } from '../fleet/index.ts';
import { describeBringUp } from '../fleet/readiness-progress.ts';
import { resolveWorld } from '../fleet/world.ts';
import { provisionRobots } from '../ota/provision.ts';
import { resolveEngines } from '../fleet/docker/engines.ts';
import { resolveOtaClient } from './ota-client-flag.ts';
import { parseListenAddress } from '../core/listen-address.ts';

/** `fleetdrill up` options as commander hands them over (strings, unvalidated). */
export interface UpFlags {
  robots: string;
  seed?: string;
  world: string;
  rtf: string;
  backend: string;
  robotImage?: string;
  otaClient?: string;
  /** `--docker-host`, repeated: the engines a docker fleet spreads over. */
  dockerHost?: string[];
  /** Commander's `--no-telemetry` sets this false. */
  telemetry?: boolean;
  /** `--listen-address`: where the fleet's servers listen instead of loopback. */
  listenAddress?: string;
  /** `--vpn`: the agent ↔ cloud link through a WireGuard tunnel (docs/vpn.md). */
  vpn?: boolean;
  json?: boolean;
}

/** Validates `up` flags, naming the flag and the value on error. */
export function parseUpFlags(flags: UpFlags) {
  const robots = parseCount(flags.robots, '--robots');
  const seed = flags.seed === undefined ? runSeed() : parseSeed(flags.seed, '--seed');
  const rtf = parsePositive(flags.rtf, '--rtf');
  const backend = parseBackend(flags.backend);
  const robotImage = flags.robotImage ?? loadConfig().fleet.robotImage;
  if (robotImage !== undefined && backend !== 'docker') {
    throw new ConfigError('--robot-image', `needs --backend docker (got --backend ${backend})`);
  }
  const dockerHosts = flags.dockerHost?.length ? flags.dockerHost : undefined;
  if (dockerHosts && backend !== 'docker') {
    throw new ConfigError('--docker-host', `needs --backend docker (got --backend ${backend})`);
  }
  if (dockerHosts) resolveEngines(dockerHosts, '--docker-host');
  const world = resolveWorld(flags.world);
  return {
    dockerHosts,
    robots,
    seed,
    rtf,
    backend,
    robotImage,
    world: world.path,
    json: Boolean(flags.json),
    telemetry: flags.telemetry ?? loadConfig().fleet.telemetry,
    profiles: loadConfig().net.profiles,
    otaClient: resolveOtaClient(flags.otaClient),
    listenAddress:
      flags.listenAddress === undefined
        ? loadConfig().fleet.listenAddress
        : parseListenAddress(flags.listenAddress, '--listen-address'),
    vpn: flags.vpn ?? loadConfig().fleet.vpn,
  };
}

/**
 * Brings a fleet up for hands-on use and keeps it up until SIGINT or SIGTERM, then tears it all
 * down. With --json every line on stdout is one JSON object.
 */
export async function up(flags: UpFlags): Promise<number> {
  const options = parseUpFlags(flags);
  const print = (object: Record<string, unknown>) => console.log(JSON.stringify(object));
  const events = new EventBus();
  // The first SIGINT/SIGTERM starts teardown; later ones are ignored so teardown can finish.
  const stopSignal = new Promise<string>((resolve) => {
    process.on('SIGINT', () => resolve('SIGINT'));
    process.on('SIGTERM', () => resolve('SIGTERM'));
  });
  if (options.json) print({ event: 'seed', seed: options.seed });
  else
    console.error(
      `fleetdrill: starting ${options.robots} robot(s), seed ${options.seed} (replay with --seed ${options.seed})`,
    );
  // A live line on a terminal; a plain line per report (about one a second) in a CI log.
  const live = process.stderr.isTTY;
  events.on((event) => {
    if (event.kind === 'fleet-progress') {
      const { kind: _kind, t: _t, ...counts } = event;
      if (options.json) print({ event: 'progress', ...counts });
      // The last report (nothing booting) ends the live line, so what follows starts on its own.
      else if (live) process.stderr.write(`\r\x1b[2K${describeBringUp(counts)}${counts.booting ? '' : '\n'}`);
      else console.error(describeBringUp(counts));
      return;
    }
    if (event.kind === 'robot-died') {
      if (options.json) print({ event: 'robot-died', id: event.robot, exit: event.exit });
      else console.error(`robot ${event.robot} died (${event.exit})`);
    }
  });

  const starting = new Fleet({
    ...options,
    events,
    provision: provisionRobots({ software: { otaClient: options.otaClient } }),
  }).start();
  // A Ctrl-C during start-up must still tear down what has started.
  const first = await Promise.race([starting.then(() => 'started' as const), stopSignal]);
  const fleet = await starting;
  if (first !== 'started') {
    await fleet.stop();
    return 130;
  }
  if (options.json) {
    for (const robot of fleet.roster)
      print({
        event: 'robot',
        id: robot.id,
        rosbridge: robot.rosbridgeUrl,
        direct: robot.directRosbridgeUrl,
        proxy: fleet.network.link(robot.id).proxyName,
        seed: robot.spec.seed,
        log: robot.logPath,
        engine: fleet.info.engines[robot.id],
      });
    print({ event: 'toxiproxy', url: fleet.network.url, embedded: fleet.network.embedded });
    if (fleet.telemetry)
      print({
        event: 'cloud',
        http: fleet.cloud.url,
        mqtt: fleet.cloud.mqttUrl,
        log: fleet.cloud.logPath,
        // The operator's certificate, key and the run's CA: what a client of the cloud presents.
        ...(fleet.cloud.operator ? { tls: fleet.cloud.operator.files } : {}),
      });
    print({
      event: 'ready',
      robots: fleet.roster.length,
      backend: fleet.backendName,
      ms: fleet.info.readyMs,
    });
  } else {
    // Where each robot runs matters once a fleet spreads over Docker engines.
    const where = options.backend === 'docker';
    const table = new Table({
      head: ['robot', 'rosbridge (proxied)', 'direct', 'seed', ...(where ? ['engine'] : []), 'log'],
    });
    for (const robot of fleet.roster)
      table.push([
        robot.id,
        robot.rosbridgeUrl,
        robot.directRosbridgeUrl,
        robot.spec.seed,
        ...(where ? [fleet.info.engines[robot.id] ?? ''] : []),
        robot.logPath,
      ]);
    console.log(table.toString());
    console.log(`Toxiproxy API: ${fleet.network.url} (proxies named <robot>-rosbridge, <robot>-cloud)`);
    if (fleet.telemetry) {
      const mqtt = new URL(fleet.cloud.mqttUrl);
      const files = fleet.cloud.operator?.files;
      // Over TLS, the hand tools present the harness's operator certificate (the run dir holds it).
      const curlTls = files ? `--cacert ${files.ca} --cert ${files.cert} --key ${files.key} ` : '';
      const mqttTls = files ? ` --cafile ${files.ca} --cert ${files.cert} --key ${files.key}` : '';
      console.log(
        `Fleet cloud: ${fleet.cloud.url} (try curl ${curlTls}${fleet.cloud.url}/v1/robots/${fleet.roster[0]!.id}/telemetry)`,
      );
      console.log(
        `Live metrics: mosquitto_sub -h ${mqtt.hostname} -p ${mqtt.port}${mqttTls} -t 'fleetdrill/+/metrics'`,
      );
    }
    console.log(`${fleet.roster.length} robot(s) ready in ${fleet.info.readyMs} ms. Ctrl-C to stop.`);
  }
  const signal = await stopSignal;
  await fleet.stop();
  if (options.json) print({ event: 'stopped', signal });
  else console.error('fleet stopped');
  return 0;
}
