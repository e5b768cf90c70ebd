import { expect, test } from '@playwright/test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchSchema } from '../protocol/telemetry.ts';
import { startFleetCloud } from '../reference/fleet-cloud/index.ts';
import { CertificateAuthority, CLOUD_SERVER_NAME } from '../reference/fleet-pki/index.ts';
import { ingestBodies } from '../reference/fleet-cloud/bench.ts';
import { expectAllStored, postBatch, robotDispatcher, tlsIngestSamplesPerSecond } from './tls-ingest.ts';

const decode = (body: Buffer) => batchSchema.parse(JSON.parse(body.toString()));

test.describe('ingestBodies', () => {
  test('splits the records between the robots in valid batches, the last one short', () => {
    const robots = ingestBodies({ records: 1_000, batchSize: 150, robots: 3 }, 1_700_000_000_000);
    expect(robots.map((robot) => robot.robotId)).toEqual(['bench00', 'bench01', 'bench02']);
    const batches = robots.map((robot) => robot.bodies.map(decode));
    // 334 + 334 + 332 records: ceil(1000 / 3) each, the remainder to the last robot.
    expect(batches.map((robot) => robot.map((batch) => batch.records.length))).toEqual([
      [150, 150, 34],
      [150, 150, 34],
      [150, 150, 32],
    ]);
    for (const [r, robot] of batches.entries()) {
      expect(robot.every((batch) => batch.robotId === robots[r]!.robotId)).toBe(true);
      const seqs = robot.flatMap((batch) => batch.records.map((record) => record.seq));
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    }
  });

  test('gives robots beyond the records nothing to send', () => {
    const robots = ingestBodies({ records: 3, batchSize: 200, robots: 5 }, 0);
    expect(robots.map((robot) => robot.bodies.length)).toEqual([1, 1, 1, 0, 0]);
  });

  test('refuses a load that is not whole numbers >= 1, naming the field', () => {
    expect(() => ingestBodies({ records: 1_000, batchSize: 0, robots: 5 }, 0)).toThrow(
      'ingest load: batchSize must be a whole number >= 1, got 0',
    );
    expect(() => ingestBodies({ records: 1.5, batchSize: 200, robots: 5 }, 0)).toThrow(/records/);
    expect(() => ingestBodies({ records: 1_000, batchSize: 200, robots: -1 }, 0)).toThrow(/robots/);
  });
});

test('the TLS ingest bench stores every record, each robot on one kept-alive connection', async () => {
  const result = await tlsIngestSamplesPerSecond({ records: 2_000, batchSize: 100, robots: 2 });
  expect(result.batches).toBe(20);
  // A handshake per batch would be 20: the figure would measure handshakes, not ingest.
  expect(result.connections).toBe(2);
  expect(result.recordsPerS).toBeGreaterThan(0);
});

test('a batch the cloud refuses fails the bench, naming the robot, status and reason', async () => {
  const ca = await CertificateAuthority.create('tls-ingest-test');
  const server = await ca.issue({ kind: 'cloud', name: CLOUD_SERVER_NAME });
  const dataDir = await mkdtemp(join(tmpdir(), 'tls-ingest-test-'));
  const dispatcher = robotDispatcher(await ca.issue({ kind: 'robot', name: 'bench01' }), () => {});
  try {
    await using cloud = await startFleetCloud({
      dataDir,
      tls: { ca: ca.certPem, cert: server.certPem, key: server.keyPem },
    });
    const [bench00] = ingestBodies({ records: 10, batchSize: 10, robots: 1 }, Date.now());
    await expect(
      postBatch(dispatcher, new URL('/v1/telemetry', cloud.httpUrl), 'bench00', bench00!.bodies[0]!),
    ).rejects.toThrow(/^robot bench00: POST \/v1\/telemetry over TLS answered 403: .*bench01/);
  } finally {
    await dispatcher.destroy();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a cloud that holds fewer or more records than were sent fails the bench', () => {
  expect(() => expectAllStored(100_000, 100_000)).not.toThrow();
  expect(() => expectAllStored(99_800, 100_000)).toThrow(
    'TLS ingest bench: the cloud holds 99800 of the 100000 records sent',
  );
  expect(() => expectAllStored(100_200, 100_000)).toThrow(/holds 100200 of the 100000/);
});
