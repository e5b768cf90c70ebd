import { mkdirSync } from 'node:fs';
import { writeIdentity, type IssuedIdentity } from '../../../reference/fleet-pki/index.ts';
import { CloudHost, cloudBoot, cloudFiles, cloudSchemes, type CloudReadyLine } from '../host/index.ts';
import { ServiceProcess } from './service-process.ts';

/** Where the embedded fleet cloud runs and what it is. */
export interface EmbeddedCloudOptions {
  /** The bundled fleet cloud entry (reference/fleet-cloud). */
  entry: string;
  /** The cloud's folder in the run dir: data and console log. */
  dir: string;
  /** Address it binds to. */
  host: string;
  bootTimeoutMs: number;
  /** The cloud's certificate: HTTPS and MQTT over TLS. */
  identity?: IssuedIdentity;
}

/** Starts the fleet cloud as a {@link ServiceProcess} with its data in the run dir. */
export async function startEmbeddedCloud(options: EmbeddedCloudOptions): Promise<CloudHost> {
  const files = cloudFiles(options.dir);
  mkdirSync(options.dir, { recursive: true });
  if (options.identity) await writeIdentity(files.identityDir, options.identity);
  const scheme = cloudSchemes(options.identity !== undefined);
  const runtime = new ServiceProcess<CloudReadyLine>({
    ...cloudBoot({ logPath: files.logPath, bootTimeoutMs: options.bootTimeoutMs, what: 'fleet cloud' }),
    command: (previous) => [
      options.entry,
      `--data=${files.dataDir}`,
      `--host=${options.host}`,
      // The same ports after a restart: every robot's proxy points at them.
      `--http-port=${previous?.httpPort ?? 0}`,
      `--mqtt-port=${previous?.mqttPort ?? 0}`,
      ...(options.identity ? [`--tls-dir=${files.identityDir}`] : []),
    ],
  });
  const supply = {
    runtime,
    addresses: (ready: CloudReadyLine) => ({
      httpUrl: `${scheme.http}://${options.host}:${ready.httpPort}`,
      upstream: `${options.host}:${ready.httpPort}`,
      mqttUrl: `${scheme.mqtt}://${options.host}:${ready.mqttPort}`,
    }),
  };
  return CloudHost.start(supply, files.logPath);
}
