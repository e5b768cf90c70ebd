import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { ConfigError } from '../core/errors.ts';
import { contractForModel, listQosContracts, loadQosContract, parseQosContract } from './contract.ts';

/** A small valid contract; each case breaks one thing in a fresh copy. */
type Json = { [key: string]: Json } | Json[] | string | number | boolean | null;
type JsonObject = { [key: string]: Json };

function goodJson(): JsonObject {
  return {
    model: 'test-bot',
    topics: {
      '/scan': {
        type: 'sensor_msgs/msg/LaserScan',
        publisher: {
          reliability: 'best_effort',
          durability: 'volatile',
          history: { kind: 'keep_last', depth: 5 },
        },
        subscriber: {
          reliability: 'best_effort',
          durability: 'volatile',
          history: { kind: 'keep_last', depth: 5 },
        },
        sample: { bytes: 1500, rateHz: 10 },
        expect: { 'loss-10': { deliveryMin: 0.7, ageP99MaxMs: 300 } },
      },
    },
  };
}

/** A copy of the good contract with the field at `path` set to `value` (or removed, for undefined). */
function broken(path: readonly string[], value: Json | undefined): JsonObject {
  const json = goodJson();
  let node = json;
  for (const key of path.slice(0, -1)) node = node[key] as JsonObject;
  const last = path[path.length - 1]!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return json;
}

function errorOf(json: unknown): string {
  try {
    parseQosContract(json, '/somewhere/qos-contract.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the contract to be refused');
}

test('a valid contract parses into topics in file order', () => {
  const contract = parseQosContract(goodJson(), 'x.json');
  expect(contract.model).toBe('test-bot');
  expect(contract.topics.map((t) => t.name)).toEqual(['/scan']);
  expect(contract.topics[0]!.expect['loss-10']).toEqual({ deliveryMin: 0.7, ageP99MaxMs: 300 });
});

test('every structural error names the file and the field path', () => {
  const scan = ['topics', '/scan'];
  const limits = [...scan, 'expect', 'loss-10'];
  const cases: Array<[string[], Json | undefined, string]> = [
    [[...limits, 'deliveryMin'], 1.5, 'topics./scan.expect.loss-10.deliveryMin must be <= 1'],
    [[...limits, 'deliveryMin'], -0.1, 'topics./scan.expect.loss-10.deliveryMin must be >= 0'],
    [[...limits, 'ageP99MaxMs'], 0, 'topics./scan.expect.loss-10.ageP99MaxMs must be > 0'],
    [[...limits, 'stallMaxMs'], 'long', 'topics./scan.expect.loss-10.stallMaxMs must be a number'],
    [[...limits, 'latencyP99Ms'], 5, 'topics./scan.expect.loss-10 has unknown key "latencyP99Ms"'],
    [
      [...scan, 'publisher', 'reliability'],
      'mostly',
      'topics./scan.publisher.reliability must be one of "reliable", "best_effort"',
    ],
    [
      [...scan, 'subscriber', 'durability'],
      'persistent',
      'topics./scan.subscriber.durability must be one of "volatile", "transient_local"',
    ],
    [
      [...scan, 'publisher', 'history'],
      { kind: 'keep_last', depth: 0 },
      'topics./scan.publisher.history.depth must be >= 1',
    ],
    [[...scan, 'publisher', 'history'], { kind: 'keep_some' }, 'topics./scan.publisher.history'],
    [[...scan, 'publisher', 'deadlineMs'], -1, 'topics./scan.publisher.deadlineMs must be > 0'],
    [
      [...scan, 'publisher', 'liveliness'],
      { kind: 'manual' },
      'topics./scan.publisher.liveliness.kind must be one of "automatic"',
    ],
    [[...scan, 'subscriber'], undefined, 'topics./scan.subscriber is required'],
    [[...scan, 'sample', 'bytes'], 1.5, 'topics./scan.sample.bytes must be an int'],
    [[...scan, 'sample', 'rateHz'], 0, 'topics./scan.sample.rateHz must be > 0'],
    [[...scan, 'type'], 'LaserScan', 'topics./scan.type must be a ROS 2 message type'],
    [['model'], 'Test Bot', 'model must be lower-case letters'],
    [['model'], undefined, 'model is required'],
    [['qos'], {}, '(root) has unknown key "qos"'],
  ];
  for (const [path, value, message] of cases) {
    const got = errorOf(broken(path, value));
    expect(got, message).toContain(`qos-contract.json: ${message}`);
  }
});

test('semantic errors: profile names, empty expectations, topic names, no topics', () => {
  const unknown = broken(['topics', '/scan', 'expect', 'loss-ten'], { deliveryMin: 0.5 });
  const message = errorOf(unknown);
  expect(message).toContain('qos-contract.json: topics./scan.expect.loss-ten is not a link profile');
  // The grammar is listed, so the user sees what would have been accepted.
  expect(message).toContain('loss-<pct>');
  expect(message).toContain('dead-zone-<N>s');

  const empty = broken(['topics', '/scan', 'expect', 'wifi-good'], {});
  expect(errorOf(empty)).toContain('topics./scan.expect.wifi-good sets no limit');

  const relative = broken(['topics', 'scan'], (goodJson().topics as JsonObject)['/scan']);
  expect(errorOf(relative)).toContain('topics.scan is not a ROS 2 topic name');

  const none = broken(['topics'], {});
  expect(errorOf(none)).toContain('qos-contract.json: topics must name at least one topic');
});

test('the reference robot contract loads, with the topics and QoS the issue names', () => {
  expect(listQosContracts()).toContain('fd-amr-1');
  const contract = contractForModel('fd-amr-1');
  const byName = new Map(contract.topics.map((t) => [t.name, t]));
  for (const name of [
    '/cmd_vel',
    '/scan',
    '/odom',
    '/imu',
    '/battery_state',
    '/diagnostics',
    '/goal_status',
    '/map',
  ]) {
    expect(byName.has(name), name).toBe(true);
  }
  expect(byName.get('/cmd_vel')!.publisher.reliability).toBe('reliable');
  expect(byName.get('/scan')!.publisher.reliability).toBe('best_effort');
  expect(byName.get('/goal_status')!.publisher).toMatchObject({
    reliability: 'reliable',
    durability: 'transient_local',
    history: { kind: 'keep_last', depth: 1 },
  });
  const map = byName.get('/map')!;
  expect(map.type).toBe('nav_msgs/msg/OccupancyGrid');
  expect(map.sample.bytes).toBeGreaterThan(60_000);
  expect(map.publisher.durability).toBe('transient_local');
  // Reliable topics deliver everything at 10 % loss; at 20 % a keep_last 10 writer at 20 Hz may
  // overwrite a sample before its repair (measured 94 to 100 %), so the contract asks for 85 %.
  expect(byName.get('/cmd_vel')!.expect['loss-10']!.deliveryMin).toBe(1);
  expect(byName.get('/cmd_vel')!.expect['loss-20']!.deliveryMin).toBe(0.85);
  expect(byName.get('/scan')!.expect['loss-20']!.deliveryMin).toBeLessThan(0.8);
});

test('files: unreadable, not JSON, unknown model and a model that is not the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetdrill-qos-contract-'));
  try {
    expect(() => loadQosContract(join(dir, 'missing.json'))).toThrow(/^missing\.json cannot be read/);
    writeFileSync(join(dir, 'broken.json'), '{ "model": ');
    expect(() => loadQosContract(join(dir, 'broken.json'))).toThrow(/^broken\.json is not valid JSON/);
    writeFileSync(join(dir, 'other-bot.json'), JSON.stringify(goodJson()));
    expect(() => contractForModel('other-bot', { dir })).toThrow(
      "other-bot.json: model says 'test-bot', expected 'other-bot'",
    );
    expect(() => contractForModel('ghost', { dir })).toThrow(
      /'ghost' has no QoS contract in .* \(contracts: broken, other-bot\)/,
    );
    writeFileSync(join(dir, 'test-bot.json'), JSON.stringify(goodJson()));
    expect(contractForModel('test-bot', { dir }).source).toBe(join(dir, 'test-bot.json'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
