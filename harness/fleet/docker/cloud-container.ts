import { mkdirSync } from 'node:fs';
import type Dockerode from 'dockerode';
import { writeIdentity, type IssuedIdentity } from '../../../reference/fleet-pki/index.ts';
import {
  CloudHost,
  cloudBoot,
  cloudFiles,
  cloudSchemes,
  parseCloudReady,
  type CloudReadyLine,
} from '../host/index.ts';
import { FleetContainer, ServiceContainer } from './service-container.ts';
import { dialAddress } from '../../core/listen-address.ts';

/** The cloud's name on the run's network, and its ports there. */
export const CLOUD_HOST = 'cloud';
const HTTP_PORT = 8080;
const MQTT_PORT = 1883;

/** What the cloud container needs. */
export interface CloudContainerContext {
  docker: Dockerode;
  /** The engine's URL when it is not testcontainers' own (see ServiceContainerOptions). */
  engineUrl?: string;
  image: string;
  network: string;
  labels: Record<string, string>;
  /** The cloud's folder in the run dir: data (a bind mount) and console log. */
  dir: string;
  /** Host ports the HTTP API and MQTT are published on, at `publishAddress`. */
  hostPorts: { http: number; mqtt: number };
  /** The host address they are published on (the run's listen address). */
  publishAddress: string;
  bootTimeoutMs: number;
  env: Record<string, string>;
  /** The cloud's certificate: HTTPS and MQTT over TLS. */
  identity?: IssuedIdentity;
}

/** The image's own arguments (docker/cloud/Dockerfile CMD), where the run dir is mounted. */
const CLOUD_ARGS = [
  '--data=/fleetdrill/data',
  '--host=0.0.0.0',
  `--http-port=${HTTP_PORT}`,
  `--mqtt-port=${MQTT_PORT}`,
];
const IDENTITY_IN_CONTAINER = '/fleetdrill/identity';

/** Starts the fleet cloud as a container; its data is a bind mount, so it survives a crash and restart. */
export async function startDockerCloud(context: CloudContainerContext): Promise<CloudHost> {
  const files = cloudFiles(context.dir);
  mkdirSync(files.dataDir, { recursive: true });
  if (context.identity) await writeIdentity(files.identityDir, context.identity);
  const scheme = cloudSchemes(context.identity !== undefined);
  const runtime = new ServiceContainer<CloudReadyLine>({
    ...cloudBoot({
      logPath: files.logPath,
      bootTimeoutMs: context.bootTimeoutMs,
      what: `fleet cloud container (${context.image})`,
    }),
    // The image's entry point picks the ports; the published ones must match them.
    validateReady: (line) => {
      const ready = parseCloudReady(line);
      if (ready.httpPort !== HTTP_PORT) throw new Error('bad ready line');
      return ready;
    },
    docker: context.docker,
    engineUrl: context.engineUrl,
    container: new FleetContainer(context.image)
      .withName(`${context.network}-cloud`)
      .withNetworkMode(context.network)
      .withNetworkAliases(CLOUD_HOST)
      .withHostname(CLOUD_HOST)
      .withLabels(context.labels)
      .withEnvironment({ ...context.env, FLEETDRILL_ROLE: 'fleet-cloud' })
      .withUser(`${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`)
      .withTmpFs({ '/tmp': 'rw' })
      .withCommand(context.identity ? [...CLOUD_ARGS, `--tls-dir=${IDENTITY_IN_CONTAINER}`] : CLOUD_ARGS)
      .withBindMounts([
        { source: files.dataDir, target: '/fleetdrill/data', mode: 'rw' },
        ...(context.identity
          ? [{ source: files.identityDir, target: IDENTITY_IN_CONTAINER, mode: 'ro' as const }]
          : []),
      ])
      .publishOn(context.publishAddress, HTTP_PORT, context.hostPorts.http)
      .publishOn(context.publishAddress, MQTT_PORT, context.hostPorts.mqtt),
  });
  const supply = {
    runtime,
    addresses: () => ({
      httpUrl: `${scheme.http}://${dialAddress(context.publishAddress)}:${context.hostPorts.http}`,
      upstream: `${CLOUD_HOST}:${HTTP_PORT}`,
      mqttUrl: `${scheme.mqtt}://${dialAddress(context.publishAddress)}:${context.hostPorts.mqtt}`,
    }),
  };
  return CloudHost.start(supply, files.logPath);
}
