/**
 * The ingest bench over mutual TLS: the load of `ingest_samples_per_s` (INGEST_LOAD in
 * bench/telemetry.ts), sent to a cloud that serves HTTPS and knows each client by its certificate,
 * as a fleet with TLS runs. The plaintext figure's client is the reference cloud's own bench
 * (reference/fleet-cloud/bench.ts); both send the bodies of its `ingestBodies`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, buildConnector, request, type Dispatcher } from 'undici';
import { ingestBodies } from '../reference/fleet-cloud/bench.ts';
import { startFleetCloud } from '../reference/fleet-cloud/index.ts';
import {
  CertificateAuthority,
  CLOUD_SERVER_NAME,
  type IssuedIdentity,
} from '../reference/fleet-pki/index.ts';

/** How the ingest bench loads the cloud; the plaintext and TLS figures share one. */
export interface IngestLoad {
  /** Records in all, split evenly between the robots. */
  records: number;
  /** Records per POST. */
  batchSize: number;
  /** Robots uploading at once, each its batches one after another on its own connection. */
  robots: number;
}

/** Throws unless the cloud holds exactly the records sent: a figure of lost records is no figure. */
export function expectAllStored(held: number, sent: number): void {
  if (held !== sent) throw new Error(`TLS ingest bench: the cloud holds ${held} of the ${sent} records sent`);
}

/** What one run of the TLS ingest bench saw. */
export interface TlsIngestResult {
  recordsPerS: number;
  batches: number;
  /**
   * TLS connections the robots opened, each a full handshake: one per robot when keep-alive
   * holds, as on a real agent's link. More means the figure pays for handshakes, not ingest.
   */
  connections: number;
}

/** A robot's client: its own certificate on keep-alive connections, counted as they open. */
export function robotDispatcher(identity: IssuedIdentity, onConnect: () => void): Agent {
  const connector = buildConnector({
    ca: identity.caPem,
    cert: identity.certPem,
    key: identity.keyPem,
    servername: CLOUD_SERVER_NAME,
  });
  return new Agent({
    // One upload at a time per robot, as the agent's uploader sends its batches.
    connections: 1,
    connect: (options, callback) => {
      onConnect();
      connector(options, callback);
    },
  });
}

/** POSTs one batch as `robotId`; anything but 200 throws with the robot, status and the cloud's reason. */
export async function postBatch(
  dispatcher: Dispatcher,
  url: URL,
  robotId: string,
  body: Buffer,
): Promise<void> {
  const answer = await request(url, {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/json' },
    body,
  });
  const text = await answer.body.text();
  if (answer.statusCode !== 200)
    throw new Error(`robot ${robotId}: POST ${url.pathname} over TLS answered ${answer.statusCode}: ${text}`);
}

/**
 * Durable records per second into a fresh reference cloud over mutual TLS on loopback. Each robot
 * presents its own certificate (the cloud lets a robot write only its own telemetry), so this is
 * the cloud's whole TLS path: handshake, client-certificate check, per-request authorisation,
 * encryption both ways. Certificates and bodies are made before the clock starts; like the
 * plaintext figure, the clients share the cloud's one thread, so it is a lower bound. Checks, as
 * an operator, that every record arrived.
 */
export async function tlsIngestSamplesPerSecond(load: IngestLoad): Promise<TlsIngestResult> {
  const ca = await CertificateAuthority.create('bench');
  const cloudIdentity = await ca.issue({ kind: 'cloud', name: CLOUD_SERVER_NAME });
  const operator = await ca.issue({ kind: 'operator', name: 'bench' });
  const capturedAt = Date.now();
  const robots = await Promise.all(
    ingestBodies(load, capturedAt).map(async ({ robotId, bodies }) => ({
      robotId,
      bodies,
      identity: await ca.issue({ kind: 'robot', name: robotId }),
    })),
  );
  let connections = 0;
  const dispatchers = robots.map((robot) => robotDispatcher(robot.identity, () => connections++));
  const operatorDispatcher = new Agent({
    connect: {
      ca: operator.caPem,
      cert: operator.certPem,
      key: operator.keyPem,
      servername: CLOUD_SERVER_NAME,
    },
  });
  const dataDir = await mkdtemp(join(tmpdir(), 'fleet-cloud-tls-bench-'));
  try {
    const cloud = await startFleetCloud({
      dataDir,
      tls: { ca: ca.certPem, cert: cloudIdentity.certPem, key: cloudIdentity.keyPem },
    });
    try {
      const url = new URL('/v1/telemetry', cloud.httpUrl);
      const started = performance.now();
      await Promise.all(
        robots.map(async ({ robotId, bodies }, r) => {
          for (const body of bodies) await postBatch(dispatchers[r]!, url, robotId, body);
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const health = await request(new URL('/health', cloud.httpUrl), { dispatcher: operatorDispatcher });
      expectAllStored(((await health.body.json()) as { records: number }).records, load.records);
      return {
        recordsPerS: Math.round(load.records / seconds),
        batches: robots.reduce((sum, robot) => sum + robot.bodies.length, 0),
        connections,
      };
    } finally {
      await cloud.stop();
    }
  } finally {
    await Promise.allSettled([...dispatchers, operatorDispatcher].map((dispatcher) => dispatcher.destroy()));
    await rm(dataDir, { recursive: true, force: true });
  }
}
