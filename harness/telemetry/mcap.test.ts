import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McapIndexedReader, McapWriter, TempBuffer } from '@mcap/core';
import { test as base, expect } from '@playwright/test';
import { SensorRing, rosTimeToNs, writeBlackboxMcap } from '../../reference/edge-agent/blackbox/index.ts';
import { McapInvalidError, coversWindow, inspectBlackbox } from './mcap.ts';

const test = base.extend<{ tmp: string }>({
  tmp: async ({}, use) => {
    const dir = await mkdtemp(join(tmpdir(), 'fleetdrill-mcap-'));
    await use(dir);
    await rm(dir, { recursive: true, force: true });
  },
});

const S = 1_000_000_000n;
const MS = 1_000_000n;

const stampAt = (ns: bigint) => ({ sec: Number(ns / S), nanosec: Number(ns % S) });
const diagonal = (n: number, v: number): number[] =>
  Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? v : 0));

function odometry(ns: bigint) {
  const t = Number(ns) / 1e9;
  return {
    header: { stamp: stampAt(ns), frame_id: 'odom' },
    child_frame_id: 'base_link',
    pose: {
      pose: {
        position: { x: 0.5 * t, y: 0.1 * Math.sin(t), z: 0 },
        orientation: { x: 0, y: 0, z: Math.sin(t / 20), w: Math.cos(t / 20) },
      },
      covariance: diagonal(6, 2.5e-5),
    },
    twist: {
      twist: { linear: { x: 0.5, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0.1 } },
      covariance: diagonal(6, 1e-4),
    },
  };
}

function laserScan(ns: bigint) {
  const t = Number(ns) / 1e9;
  return {
    header: { stamp: stampAt(ns), frame_id: 'base_scan' },
    angle_min: -Math.PI,
    angle_max: -Math.PI + (359 * Math.PI) / 180,
    angle_increment: Math.PI / 180,
    time_increment: 0.1 / 360,
    scan_time: 0.1,
    range_min: 0.05,
    range_max: 12,
    // Beams pointing at open floor have no return, which the sim publishes as null.
    ranges: Array.from({ length: 360 }, (_, i) => (i > 300 ? null : 2 + Math.abs(Math.sin(i / 30 + t)) * 8)),
    intensities: [],
  };
}

function imu(ns: bigint) {
  const t = Number(ns) / 1e9;
  return {
    header: { stamp: stampAt(ns), frame_id: 'imu_link' },
    orientation: { x: 0, y: 0, z: Math.sin(t / 20), w: Math.cos(t / 20) },
    orientation_covariance: diagonal(3, 1e-6),
    angular_velocity: { x: 0, y: 0, z: 0.1 },
    angular_velocity_covariance: diagonal(3, 2.5e-5),
    linear_acceleration: { x: 0.01 * Math.cos(t), y: 0, z: 9.80665 },
    linear_acceleration_covariance: diagonal(3, 2.5e-3),
  };
}

const TRIGGER_NS = 10n * S;
const FROM_NS = 2n * S;
const TO_NS = 14n * S;

/**
 * 15 s of /odom at 20 Hz, /scan at 10 Hz and /imu at 50 Hz through the ring, arriving
 * interleaved as they would, then the blackbox for a collision at 10 s (8 s before, 4 s after).
 */
async function writeSample(dir: string) {
  const ring = new SensorRing({ windowS: 20 });
  const periods: Array<
    [string, bigint, (ns: bigint) => { header: { stamp: { sec: number; nanosec: number } } }]
  > = [
    ['/odom', 50n * MS, odometry],
    ['/scan', 100n * MS, laserScan],
    ['/imu', 20n * MS, imu],
  ];
  for (let ns = 0n; ns <= 15n * S; ns += 10n * MS) {
    for (const [topic, period, build] of periods) {
      if (ns % period !== 0n) continue;
      const message = build(ns);
      ring.push(topic, message, rosTimeToNs(message.header.stamp), 1_700_000_000_000 + Number(ns / MS));
    }
  }
  const path = join(dir, 'r07', 'boot-1', '3.mcap');
  const written = await writeBlackboxMcap(path, {
    robotId: 'r07',
    bootId: 'boot-1',
    triggerSeq: 3,
    trigger: { kind: 'collision', stampNs: TRIGGER_NS },
    fromNs: FROM_NS,
    toNs: TO_NS,
    entries: ring.slice(FROM_NS, TO_NS),
  });
  return { path, written, data: new Uint8Array(await readFile(path)) };
}

async function expectInvalid(data: Uint8Array, pattern: RegExp): Promise<McapInvalidError> {
  const error = await inspectBlackbox(data).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(McapInvalidError);
  expect((error as Error).message).toMatch(pattern);
  return error as McapInvalidError;
}

/** A file written with McapWriter directly, for shapes the edge agent never produces. */
async function handWritten(
  build: (writer: McapWriter) => Promise<void>,
  options: { foxglove?: Record<string, string> } = {},
): Promise<Uint8Array> {
  const buffer = new TempBuffer();
  const writer = new McapWriter({ writable: buffer });
  await writer.start({ profile: '', library: 'test' });
  if (options.foxglove) {
    await writer.addMetadata({ name: 'foxglove', metadata: new Map(Object.entries(options.foxglove)) });
  }
  await writer.addMetadata({ name: 'fleetdrill', metadata: new Map([['robotId', 'r01']]) });
  await build(writer);
  await writer.end();
  return buffer.get();
}

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

test('a blackbox holds every sensor message of its window, with schemas and metadata', async ({ tmp }) => {
  const { path, written, data } = await writeSample(tmp);

  expect(written.bytes).toBe(data.byteLength);
  expect(written.sha256).toBe(createHash('sha256').update(data).digest('hex'));
  expect(await readdir(join(tmp, 'r07', 'boot-1'))).toEqual(['3.mcap']);

  const contents = await inspectBlackbox(data);
  expect(contents.profile).toBe('');
  expect(contents.library).toBe('fleetdrill edge-agent');
  const byTopic = Object.fromEntries(contents.channels.map((channel) => [channel.topic, channel]));
  expect(Object.keys(byTopic).sort()).toEqual(['/imu', '/odom', '/scan']);
  // Inclusive on both ends: 12 s at 20, 10 and 50 Hz, plus one.
  expect(byTopic['/odom']).toEqual({
    topic: '/odom',
    messageEncoding: 'json',
    schemaName: 'nav_msgs/msg/Odometry',
    schemaEncoding: 'jsonschema',
    messages: 241,
    firstNs: FROM_NS,
    lastNs: TO_NS,
  });
  expect(byTopic['/scan']).toMatchObject({ schemaName: 'sensor_msgs/msg/LaserScan', messages: 121 });
  expect(byTopic['/imu']).toMatchObject({ schemaName: 'sensor_msgs/msg/Imu', messages: 601 });
  expect(contents.messageCount).toBe(241 + 121 + 601);
  expect(contents.startNs).toBe(FROM_NS);
  expect(contents.endNs).toBe(TO_NS);

  expect(contents.metadata).toEqual({
    foxglove: { deviceName: 'r07' },
    fleetdrill: {
      robotId: 'r07',
      bootId: 'boot-1',
      triggerSeq: '3',
      triggerKind: 'collision',
      triggerStampNs: String(TRIGGER_NS),
      windowFromNs: String(FROM_NS),
      windowToNs: String(TO_NS),
      // Not given: the window asked for is the one written.
      requestedFromNs: String(FROM_NS),
    },
  });

  // The schemas are real JSON Schemas, and messages come back as they were pushed.
  const reader = await McapIndexedReader.Initialize({ readable: new TempBuffer(await readFile(path)) });
  const schemas = new Map(
    [...reader.schemasById.values()].map((schema) => [
      schema.name,
      JSON.parse(new TextDecoder().decode(schema.data)) as { properties: Record<string, unknown> },
    ]),
  );
  expect(Object.keys(schemas.get('sensor_msgs/msg/LaserScan')!.properties)).toContain('ranges');
  expect(Object.keys(schemas.get('nav_msgs/msg/Odometry')!.properties)).toEqual(
    expect.arrayContaining(['header', 'child_frame_id', 'pose', 'twist']),
  );
  expect(Object.keys(schemas.get('sensor_msgs/msg/Imu')!.properties)).toContain('linear_acceleration');
  let scansAt5s = 0;
  const scanChannel = [...reader.channelsById.values()].find((channel) => channel.topic === '/scan')!;
  for await (const message of reader.readMessages({
    topics: ['/scan'],
    startTime: 5n * S,
    endTime: 5n * S,
  })) {
    expect(message.channelId).toBe(scanChannel.id);
    expect(message.publishTime).toBe(5n * S);
    expect(JSON.parse(new TextDecoder().decode(message.data))).toEqual(laserScan(5n * S));
    scansAt5s++;
  }
  expect(scansAt5s).toBe(1);
});

test('coversWindow checks every channel against the window, within the tolerance', async ({ tmp }) => {
  const contents = await inspectBlackbox((await writeSample(tmp)).data);

  expect(coversWindow(contents, FROM_NS, TO_NS, 0n)).toEqual({ ok: true });
  expect(coversWindow(contents, FROM_NS - S, TO_NS, 0n)).toEqual({
    ok: false,
    reason: '/odom starts at 2.000 s, after the start of the window 1.000 s..14.000 s (tolerance 0.000 s)',
  });
  expect(coversWindow(contents, FROM_NS - S, TO_NS + S, S)).toEqual({ ok: true });
  const late = coversWindow(contents, FROM_NS, TO_NS + 50n * MS, 0n);
  expect(late.ok).toBe(false);
  expect(late.reason).toMatch(/^\/odom ends at 14\.000 s, before the end of the window/);
  expect(coversWindow(contents, FROM_NS, TO_NS, 0n, { topics: ['/scan'] })).toEqual({ ok: true });
  expect(coversWindow(contents, FROM_NS, TO_NS, 0n, { topics: ['/bumper'] })).toMatchObject({
    ok: false,
    reason: expect.stringMatching(/^\/bumper has no messages/),
  });

  const withoutOdom = { ...contents, channels: contents.channels.filter((c) => c.topic !== '/odom') };
  expect(coversWindow(withoutOdom, FROM_NS, TO_NS, 0n)).toMatchObject({
    ok: false,
    reason: expect.stringMatching(/^\/odom has no messages/),
  });
});

test('a truncated file is not finalized, wherever it was cut', async ({ tmp }) => {
  const { data } = await writeSample(tmp);
  const reader = await McapIndexedReader.Initialize({ readable: new TempBuffer(data) });
  const cuts = [
    0,
    7,
    100,
    Math.floor(data.byteLength / 3),
    Math.floor(data.byteLength / 2),
    Number(reader.dataEndOffset),
    Number(reader.footer.summaryStart) + 10,
    data.byteLength - 30,
    data.byteLength - 1,
  ];
  for (const cut of cuts) {
    await expectInvalid(data.slice(0, cut), /^not a finalized MCAP file \(truncated/);
  }
});

test('a flipped byte inside a chunk fails the chunk CRC', async ({ tmp }) => {
  const { data } = await writeSample(tmp);
  const reader = await McapIndexedReader.Initialize({ readable: new TempBuffer(data) });
  expect(reader.chunkIndexes.length).toBeGreaterThan(1);
  for (const chunk of [reader.chunkIndexes[0]!, reader.chunkIndexes.at(-1)!]) {
    const copy = data.slice();
    const at = Number(chunk.chunkStartOffset + chunk.chunkLength / 2n);
    copy[at] = copy[at]! ^ 0x01;
    await expectInvalid(copy, /chunk CRC/);
  }
});

test('a flipped byte outside the chunks fails the data section CRC', async ({ tmp }) => {
  const { data } = await writeSample(tmp);
  const reader = await McapIndexedReader.Initialize({ readable: new TempBuffer(data) });
  const foxglove = reader.metadataIndexes.find((index) => index.name === 'foxglove')!;
  const copy = data.slice();
  // The last bytes of the record are the deviceName value: "r07" would quietly become "r06".
  const at = Number(foxglove.offset + foxglove.length) - 1;
  copy[at] = copy[at]! ^ 0x01;
  await expectInvalid(copy, /data section CRC mismatch/);
});

test('a file without the foxglove metadata record, or without its deviceName, is refused', async () => {
  const noRecord = await handWritten(async () => {});
  const error = await expectInvalid(noRecord, /no metadata record named foxglove/);
  expect(error.message).toContain('found fleetdrill');
  await expectInvalid(
    await handWritten(async () => {}, { foxglove: { deviceName: '' } }),
    /has no deviceName/,
  );
  await expectInvalid(
    await handWritten(async () => {}, { foxglove: { device: 'r01' } }),
    /has no deviceName/,
  );
  const contents = await inspectBlackbox(
    await handWritten(async () => {}, { foxglove: { deviceName: 'r01' } }),
  );
  expect(contents.messageCount).toBe(0);
  expect(contents.channels).toEqual([]);
});

test('a channel without a schema is refused', async () => {
  const data = await handWritten(
    async (writer) => {
      const channelId = await writer.registerChannel({
        topic: '/odom',
        schemaId: 0,
        messageEncoding: 'json',
        metadata: new Map(),
      });
      await writer.addMessage({ channelId, sequence: 0, logTime: 1n, publishTime: 1n, data: json({}) });
    },
    { foxglove: { deviceName: 'r01' } },
  );
  await expectInvalid(data, /^channel \/odom \(id 0\) has no schema$/);
});

test('a message that is not JSON is refused, naming its topic and time', async () => {
  const data = await handWritten(
    async (writer) => {
      const schemaId = await writer.registerSchema({
        name: 'nav_msgs/msg/Odometry',
        encoding: 'jsonschema',
        data: json({ type: 'object' }),
      });
      const channelId = await writer.registerChannel({
        topic: '/odom',
        schemaId,
        messageEncoding: 'json',
        metadata: new Map(),
      });
      await writer.addMessage({ channelId, sequence: 0, logTime: 1n, publishTime: 1n, data: json({}) });
      await writer.addMessage({
        channelId,
        sequence: 1,
        logTime: 2n,
        publishTime: 2n,
        data: new TextEncoder().encode('{"header": '),
      });
    },
    { foxglove: { deviceName: 'r01' } },
  );
  await expectInvalid(data, /^message 1 on \/odom at 2 ns is not valid JSON/);
});

test('a topic of an unknown type gets a permissive schema named after its type', async ({ tmp }) => {
  const path = join(tmp, 'unknown.mcap');
  await writeBlackboxMcap(path, {
    robotId: 'r02',
    bootId: 'b',
    triggerSeq: 1,
    trigger: { kind: 'estop', stampNs: S },
    fromNs: 0n,
    toNs: 2n * S,
    entries: [
      {
        topic: '/wheel_temps',
        type: 'fleetdrill_msgs/msg/WheelTemps',
        message: { c: [40, 41] },
        stampNs: S,
        receivedAtMs: 0,
      },
    ],
  });
  const data = new Uint8Array(await readFile(path));
  const contents = await inspectBlackbox(data);
  expect(contents.channels).toEqual([
    {
      topic: '/wheel_temps',
      messageEncoding: 'json',
      schemaName: 'fleetdrill_msgs/msg/WheelTemps',
      schemaEncoding: 'jsonschema',
      messages: 1,
      firstNs: S,
      lastNs: S,
    },
  ]);
  const reader = await McapIndexedReader.Initialize({ readable: new TempBuffer(data) });
  const [schema] = [...reader.schemasById.values()];
  expect(JSON.parse(new TextDecoder().decode(schema!.data))).toEqual({
    title: 'fleetdrill_msgs/msg/WheelTemps',
    type: 'object',
  });
});

test('a write that fails leaves neither the file nor its .part behind', async ({ tmp }) => {
  const path = join(tmp, 'failed.mcap');
  const write = writeBlackboxMcap(path, {
    robotId: 'r03',
    bootId: 'b',
    triggerSeq: 1,
    trigger: { kind: 'collision', stampNs: S },
    fromNs: 0n,
    toNs: 2n * S,
    entries: [
      { topic: '/odom', type: 'nav_msgs/msg/Odometry', message: odometry(S), stampNs: S, receivedAtMs: 0 },
      { topic: '/odom', type: 'nav_msgs/msg/Odometry', message: undefined, stampNs: 2n * S, receivedAtMs: 0 },
    ],
  });
  await expect(write).rejects.toThrow(
    'blackbox r03: message on /odom at 2000000000 ns is not JSON-serialisable',
  );
  expect(await readdir(tmp)).toEqual([]);
});
