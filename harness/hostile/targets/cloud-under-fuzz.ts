import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFleetCloud, type StartedFleetCloud } from '../../../reference/fleet-cloud/index.ts';
import { runAll } from '../../core/index.ts';
import { buildArtifact } from '../../ota/index.ts';
import { loadTestKeyPair } from '../../ota/index.ts';
import { sampleBlackbox } from '../almost.ts';
import { describeRequest, exchange, type HttpAnswer, type HttpInput } from '../http.ts';
import { expectIntact, judgeStatus } from '../oracles.ts';
import type { FuzzTarget } from '../runner.ts';
import { OracleViolation } from '../violation.ts';

/** The robot whose data is stored before fuzzing and must read back unchanged after it. */
export const KEPT_ROBOT = 'keep01';
/** Its boot; the kept records are seqs 1..KEPT_RECORDS of it. */
export const KEPT_BOOT = 'b1';
export const KEPT_RECORDS = 21;

/** The kept records: metrics, and one event, as an agent sends them. */
export function keptBatch(): { robotId: string; records: unknown[] } {
  const records = Array.from({ length: KEPT_RECORDS }, (_, i) => ({
    bootId: KEPT_BOOT,
    seq: i + 1,
    tier: i === KEPT_RECORDS - 1 ? 'events' : 'metrics',
    name: i === KEPT_RECORDS - 1 ? 'estop' : 'robot',
    capturedAt: 1_700_000_000_000 + i * 100,
    simTime: i / 10,
    data: { battery: 0.9 - i / 100, note: 'kept' },
  }));
  return { robotId: KEPT_ROBOT, records };
}

/** What the cloud holds for the kept robot, read back over its API. */
interface Holdings {
  records: unknown;
  blackbox: Buffer;
  artifact: Buffer;
}

/** A fleet cloud on a temp dir, holding known-good telemetry, a blackbox and an artifact. */
export class CloudUnderFuzz {
  /** Where the kept blackbox lives: `/v1/blackbox/keep01/b1/1.mcap`. */
  readonly keptBlackboxPath = `/v1/blackbox/${KEPT_ROBOT}/${KEPT_BOOT}/1.mcap`;
  #before: Holdings | undefined;

  private constructor(
    readonly cloud: StartedFleetCloud,
    readonly dir: string,
    /** Bytes of the kept artifact, a valid signed one that fuzzers mutate. */
    readonly artifactBytes: Buffer,
    readonly artifactId: string,
    /** Bytes of the kept blackbox, a valid MCAP file that fuzzers mutate. */
    readonly blackboxBytes: Uint8Array,
  ) {}

  /** Starts the cloud and stores the kept data through its own API, checking each answer. */
  static async start(): Promise<CloudUnderFuzz> {
    const dir = await mkdtemp(join(tmpdir(), 'fleetdrill-fuzz-cloud-'));
    try {
      const cloud = await startFleetCloud({ dataDir: join(dir, 'cloud'), log: () => {} });
      const key = loadTestKeyPair('test-ota');
      const built = await buildArtifact({
        name: 'robot-sim',
        version: '1.0.1',
        compatibleModels: ['fd-amr-1'],
        payload: new Uint8Array(4096).fill(7),
        privateKey: key.privateKey,
        out: join(dir, 'kept.fdart'),
      });
      const artifactBytes = await readFile(built.path);
      const blackboxBytes = await sampleBlackbox(KEPT_ROBOT);
      const under = new CloudUnderFuzz(cloud, dir, artifactBytes, built.sha256, blackboxBytes);
      await under.store();
      under.#before = await under.holdings();
      return under;
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * Sends one request on a connection of its own: a server may close a connection after a
   * refusal, and a reused one would then read as no answer.
   */
  send(input: HttpInput): Promise<HttpAnswer> {
    return exchange(this.cloud.httpUrl, input);
  }

  /** Sends a request that must get `status`: setting up and reading back kept data. */
  async expectStatus(input: HttpInput, status: number): Promise<HttpAnswer> {
    const answer = await this.send(input);
    if (answer.status !== status) {
      throw new OracleViolation(
        `${describeRequest(input)}: answered ${answer.status}, expected ${status}: ${answer.body.toString('utf8').slice(0, 300)}`,
      );
    }
    return answer;
  }

  private async store(): Promise<void> {
    const json = { 'content-type': 'application/json' };
    await this.expectStatus(
      {
        method: 'POST',
        path: '/v1/telemetry',
        headers: json,
        body: Buffer.from(JSON.stringify(keptBatch())),
      },
      200,
    );
    const box = this.blackboxBytes;
    await this.expectStatus(
      {
        method: 'PUT',
        path: this.keptBlackboxPath,
        headers: {
          'content-range': `bytes 0-${box.length - 1}/${box.length}`,
          'x-content-sha256': createHash('sha256').update(box).digest('hex'),
        },
        body: box,
      },
      200,
    );
    await this.expectStatus({ method: 'POST', path: '/v1/artifacts', body: this.artifactBytes }, 201);
  }

  private async holdings(): Promise<Holdings> {
    await this.expectStatus({ method: 'GET', path: '/health' }, 200);
    const records = await this.expectStatus({ method: 'GET', path: `/v1/robots/${KEPT_ROBOT}/records` }, 200);
    const blackbox = await this.expectStatus({ method: 'GET', path: this.keptBlackboxPath }, 200);
    const artifact = await this.expectStatus(
      { method: 'GET', path: `/v1/artifacts/${this.artifactId}` },
      200,
    );
    return {
      records: JSON.parse(records.body.toString('utf8')),
      blackbox: blackbox.body,
      artifact: artifact.body,
    };
  }

  /** The cloud still answers, and the kept data reads back record for record, byte for byte. */
  async check(): Promise<void> {
    const after = await this.holdings();
    expectIntact(`robot ${KEPT_ROBOT}'s records`, this.#before!.records, after.records);
    expectIntact(`blackbox ${this.keptBlackboxPath}`, this.#before!.blackbox, after.blackbox);
    expectIntact(`artifact ${this.artifactId}`, this.#before!.artifact, after.artifact);
  }

  async stop(): Promise<void> {
    await runAll([() => this.cloud.stop(), () => rm(this.dir, { recursive: true, force: true })]);
  }
}

/** What a cloud target fuzzes with, made once the cloud is up: inputs, and any data of its own to keep. */
export interface CloudFuzzPlan {
  inputs: fc.Arbitrary<HttpInput>;
  /** Reads back what the plan stored itself; throws OracleViolation when it changed. */
  check?: () => Promise<void>;
}

/**
 * A fuzz target over a fresh CloudUnderFuzz: each input is one request, judged by the statuses
 * the API documents for it; after the inputs the cloud must answer and hold its kept data.
 */
export function cloudTarget(
  name: string,
  documented: ReadonlySet<number>,
  plan: (under: CloudUnderFuzz) => CloudFuzzPlan | Promise<CloudFuzzPlan>,
): FuzzTarget<HttpInput> {
  return {
    name,
    async start() {
      const under = await CloudUnderFuzz.start();
      const stop = () => under.stop();
      let planned: CloudFuzzPlan;
      try {
        planned = await plan(under);
      } catch (error) {
        await stop();
        throw error;
      }
      return {
        inputs: planned.inputs,
        async send(input) {
          const answer = await under.send(input);
          return judgeStatus(answer.status, documented, describeRequest(input));
        },
        async check() {
          await under.check();
          await planned.check?.();
        },
        stop,
        [Symbol.asyncDispose]: stop,
      };
    },
  };
}

/** Robot ids the fuzz writes under: never the kept robot, whose data must not change. */
export const FUZZ_ROBOTS = ['fz01', 'fz02', 'fz03'] as const;

/** Path segments a hostile client tries: traversal, encodings, the kept robot, sizes. */
export const hostileSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    ...FUZZ_ROBOTS,
    KEPT_ROBOT,
    '..',
    '.',
    '%2e%2e',
    '%2F',
    'a%00b',
    '%zz',
    '',
    '~',
    'x'.repeat(300),
  ),
  fc.stringMatching(/^[A-Za-z0-9_.%-]{1,20}$/),
);
