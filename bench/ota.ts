import { createCipheriv, createHash } from 'node:crypto';
import { openAsBlob, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onProcessExit } from '../harness/core/cleanup.ts';
import { runAll, TimeoutError } from '../harness/core/errors.ts';
import { ensureBundle } from '../harness/fleet/embedded/bundle.ts';
import { REPO_ROOT } from '../harness/core/paths.ts';
import { startEmbeddedCloud } from '../harness/fleet/embedded/cloud-process.ts';
import { buildArtifact, loadTestKeyPair } from '../harness/ota/index.ts';
import { OtaClient, type OtaClientEvent } from '../reference/edge-agent/ota/index.ts';
import type { ArtifactInfo } from '../protocol/ota-cloud.ts';
import { boot, BootEnv, installInitial, readSlotMeta } from '../reference/robot-host/boot/index.ts';

/** 100 MiB: a robot image of a realistic size, and larger than the default 64 MiB slot. */
const PAYLOAD_BYTES = 100 * 1024 * 1024;
const SLOT_CAPACITY = 128 * 1024 * 1024;
const MODEL = 'fd-amr-1';
const ROBOT = 'r01';
const INSTALLED = '1.0.0';
const TARGET = '1.1.0';
const UPDATE_TIMEOUT_MS = 120_000;
/** Built artifacts survive the run: making and signing 100 MiB costs more than one update does. */
const CACHE_DIR = join(REPO_ROOT, '.fleetdrill', 'bench');
const CACHE_PREFIX = 'ota-throughput-';

/** What one run of the OTA throughput bench saw. */
export interface OtaThroughputResult {
  /** Payload bytes / 1e6 / seconds from the client's start to its reboot() call. */
  mbPerS: number;
  payloadBytes: number;
  /** Client start to reboot(): everything the figure covers. */
  totalMs: number;
  /** Client start to the Download report: the poll that finds the offer, and the report itself. */
  offerMs: number;
  /** Download report to the body's last byte written to the robot's disk. */
  transferMs: number;
  /** Last byte to the ArtifactInstall report: the download's fsync, the offer check, verifyArtifact. */
  verifyMs: number;
  /** ArtifactInstall report to reboot(): the slot write and its read-back, the record, arming the trial. */
  installMs: number;
}

/**
 * A 100 MiB update through the real OTA client on loopback: a fresh fleet cloud in its own
 * process (as in production, so the client and the server do not share an event loop) holds a
 * signed artifact deployed to one robot on a fresh temp disk. The clock runs from
 * `OtaClient.start` to the client's `reboot()` call, so it covers the poll, the download, both
 * hash checks (the file's, hashed as it arrives, and the payload's) and the signature, the slot
 * write with its fsyncs and read-back, and arming the trial. The payload is pseudo-random bytes from `seed`, so nothing compresses or dedupes it.
 */
export async function otaThroughput(seed: number): Promise<OtaThroughputResult> {
  const artifact = await cachedArtifact(seed);
  const dir = await mkdtemp(join(tmpdir(), 'fleetdrill-bench-ota-'));
  // Teardown in a finally does not run when the bench is interrupted; this still removes the
  // 200+ MB a run leaves on disk.
  const unregister = onProcessExit(() => rmSync(dir, { recursive: true, force: true }));
  const teardown: Array<() => unknown> = [];
  try {
    const entry = await ensureBundle('reference/fleet-cloud/main.ts', 'fleet-cloud', ['better-sqlite3']);
    const cloud = await startEmbeddedCloud({
      entry,
      dir: join(dir, 'cloud'),
      host: '127.0.0.1',
      bootTimeoutMs: 20_000,
    });
    teardown.push(() => cloud.stop());
    const info = await upload(cloud.httpUrl, artifact);
    await deploy(cloud.httpUrl, info.id);

    const disk = join(dir, 'disk');
    const env = new BootEnv(disk);
    await installInitial(env, Buffer.from(`robot software ${INSTALLED}`), { version: INSTALLED });
    await boot(env, 'power-on');

    const result = await timedUpdate(cloud.httpUrl, disk, seed, teardown);
    await expectArmed(env, info);
    return result;
  } finally {
    await runAll([...teardown.reverse(), () => rm(dir, { recursive: true, force: true }), unregister]);
  }
}

/** Runs one client until it asks for the reboot into the trial; the phase times from its events. */
async function timedUpdate(
  cloudUrl: string,
  disk: string,
  seed: number,
  teardown: Array<() => unknown>,
): Promise<OtaThroughputResult> {
  const at: Partial<Record<'Download' | 'lastByte' | 'ArtifactInstall', number>> = {};
  let state = 'no report yet';
  let settle: { resolve: (at: number) => void; reject: (error: Error) => void } | undefined;
  const rebooted = new Promise<number>((resolve, reject) => (settle = { resolve, reject }));
  const onEvent = (event: OtaClientEvent): void => {
    const now = performance.now();
    if (event.kind === 'ota-progress') {
      if (event.bytes === event.size) at.lastByte = now;
    } else if (event.kind === 'ota-report') {
      const { state: name, message } = event.report;
      state = name;
      if (name === 'Download' || name === 'ArtifactInstall') at[name] = now;
      if (name === 'ArtifactFailure' || name === 'already-installed') {
        settle?.reject(new Error(`robot ${ROBOT}: the update ended in ${name}: ${message ?? 'no message'}`));
      }
    }
  };
  const started = performance.now();
  const client = await OtaClient.start({
    robotId: ROBOT,
    model: MODEL,
    cloudUrl,
    disk,
    currentVersion: INSTALLED,
    publicKeys: [loadTestKeyPair('test-ota').publicKeyPem],
    pollIntervalMs: 50,
    requestTimeoutMs: 10_000,
    // No retries: a download that needed one would be a different measurement.
    retryBudget: { attempts: 0 },
    healthCheck: () => Promise.resolve({ ok: true }),
    healthWindowMs: 1_000,
    reboot: () => {
      settle?.resolve(performance.now());
      return Promise.resolve();
    },
    slotCapacity: SLOT_CAPACITY,
    onEvent,
    seed,
  });
  teardown.push(() => client.stop());
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new TimeoutError(
            `robot ${ROBOT}: no reboot into the trial within ${UPDATE_TIMEOUT_MS} ms, last report ${state}`,
          ),
        ),
      UPDATE_TIMEOUT_MS,
    );
  });
  const rebootAt = await Promise.race([rebooted, timeout]).finally(() => clearTimeout(timer));
  const { Download: download, lastByte, ArtifactInstall: install } = at;
  if (download === undefined || lastByte === undefined || install === undefined) {
    throw new Error(`robot ${ROBOT}: rebooted without reporting every phase (${JSON.stringify(at)})`);
  }
  const totalMs = rebootAt - started;
  return {
    mbPerS: round(PAYLOAD_BYTES / 1e6 / (totalMs / 1000), 1),
    payloadBytes: PAYLOAD_BYTES,
    totalMs: Math.round(totalMs),
    offerMs: Math.round(download - started),
    transferMs: Math.round(lastByte - download),
    verifyMs: Math.round(install - lastByte),
    installMs: Math.round(rebootAt - install),
  };
}

/** A figure is only worth reporting if the update really landed: B written with the payload, armed. */
async function expectArmed(env: BootEnv, info: ArtifactInfo): Promise<void> {
  const { vars } = await env.read();
  const slot = await readSlotMeta(env.disk, 'B');
  if (
    vars.active !== 'B' ||
    vars.upgrade_available !== 1 ||
    slot.state !== 'written' ||
    slot.version !== TARGET ||
    slot.sha256 !== info.manifest.payload.sha256
  ) {
    throw new Error(
      `robot ${ROBOT}: after the update the boot env is ${JSON.stringify(vars)} and slot B ${JSON.stringify(slot)}, ` +
        `expected B armed with ${TARGET} (${info.manifest.payload.sha256})`,
    );
  }
}

/** The signed artifact for `seed`, built once into the cache dir. */
async function cachedArtifact(seed: number): Promise<string> {
  const { privateKey, keyId } = loadTestKeyPair('test-ota');
  const name = `${CACHE_PREFIX}${TARGET}-${PAYLOAD_BYTES}-${seed}-${keyId}.fdart`;
  const path = join(CACHE_DIR, name);
  // buildArtifact renames a whole file into place: one that exists is complete.
  if (await stat(path).catch(() => undefined)) return path;
  await mkdir(CACHE_DIR, { recursive: true });
  // Another seed's artifact would only take 100 MiB of disk.
  for (const old of await readdir(CACHE_DIR)) {
    if (old.startsWith(CACHE_PREFIX)) await rm(join(CACHE_DIR, old), { force: true });
  }
  await buildArtifact({
    name: 'robot-sim',
    version: TARGET,
    compatibleModels: [MODEL],
    payload: pseudoRandomBytes(seed, PAYLOAD_BYTES),
    privateKey,
    out: path,
  });
  return path;
}

/** `size` bytes of AES-256-CTR keystream keyed by `seed`: fast, deterministic, incompressible. */
function pseudoRandomBytes(seed: number, size: number): Buffer {
  const key = createHash('sha256').update(`fleetdrill bench ota ${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

/** POSTs the artifact file, streamed from disk. */
async function upload(cloudUrl: string, path: string): Promise<ArtifactInfo> {
  const response = await fetch(new URL('/v1/artifacts', cloudUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: await openAsBlob(path),
  });
  if (response.status !== 201 && response.status !== 200) {
    throw new Error(`POST /v1/artifacts (${path}) answered ${response.status}: ${await response.text()}`);
  }
  return (await response.json()) as ArtifactInfo;
}

async function deploy(cloudUrl: string, artifactId: string): Promise<void> {
  const response = await fetch(new URL('/v1/deployments', cloudUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench-ota-throughput', artifactId, robots: [ROBOT] }),
  });
  if (response.status !== 201) {
    throw new Error(
      `POST /v1/deployments of ${artifactId} to ${ROBOT} answered ${response.status}: ${await response.text()}`,
    );
  }
  await response.body?.cancel();
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
