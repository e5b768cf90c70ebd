import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import { firstIssue } from '../../protocol/zod-issues.ts';
import { parseUdpProfile, UDP_PROFILE_GRAMMAR } from '../net/index.ts';
import type { TopicQos } from './policy.ts';

/**
 * What must hold for one topic on one link profile. Every limit is optional, but a profile entry
 * sets at least one: an empty entry would read as "checked" while checking nothing.
 */
export interface ProfileExpectation {
  /** Least fraction (0..1) of the samples the publisher wrote that must arrive. */
  deliveryMin?: number;
  /** Most the p99 age of the newest sample the subscriber holds may reach (ms): freshness. */
  ageP99MaxMs?: number;
  /** Longest allowed time with no new sample arriving (ms): a stall. */
  stallMaxMs?: number;
  /** Most the p99 delivery latency (receive − write) may reach (ms). */
  latencyP99MaxMs?: number;
}

/** The shape of the samples a topic carries, so a drill can send traffic like the robot's. */
export interface SampleShape {
  /** Serialised size of one sample (bytes, CDR), which decides how many fragments it takes. */
  bytes: number;
  /**
   * How often the publisher writes (Hz). For topics published on events (`/goal_status`), the
   * rate a drill exercises them at.
   */
  rateHz: number;
}

/** One topic of a robot model's contract. */
export interface TopicContract {
  /** Topic name, such as `/cmd_vel`. */
  name: string;
  /** ROS 2 message type, such as `geometry_msgs/msg/Twist`. */
  type: string;
  /** The QoS the publisher offers. */
  publisher: TopicQos;
  /** The QoS the consumer (an operator station, the fleet server) requests. */
  subscriber: TopicQos;
  sample: SampleShape;
  /** What must hold, by link profile name (`wifi-good`, `loss-10`, `dead-zone-2s`, …). */
  expect: Readonly<Record<string, ProfileExpectation>>;
}

/** A robot model's QoS contract: which topics it has, their QoS, and what must survive which link. */
export interface QosContract {
  /** Robot model the contract belongs to (the file name under reference/qos without `.json`). */
  model: string;
  description?: string;
  /** Topics in the file's order. */
  topics: readonly TopicContract[];
  /** The file it came from, or what the caller named the JSON. */
  source: string;
}

/** Where the reference models' contracts live: `<dir>/<model>.json`. */
export const QOS_CONTRACT_DIR = fileURLToPath(new URL('../../reference/qos/', import.meta.url));

const ms = z.number().positive();
const liveliness = z.strictObject({
  kind: z.enum(['automatic', 'manual_by_participant', 'manual_by_topic']),
  leaseMs: ms.optional(),
});
const history = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('keep_last'), depth: z.number().int().min(1).max(100_000) }),
  z.strictObject({ kind: z.literal('keep_all') }),
]);
const qos = z.strictObject({
  reliability: z.enum(['reliable', 'best_effort']),
  durability: z.enum(['volatile', 'transient_local']),
  history,
  deadlineMs: ms.optional(),
  lifespanMs: ms.optional(),
  liveliness: liveliness.optional(),
});
const expectation = z.strictObject({
  deliveryMin: z.number().min(0).max(1).optional(),
  ageP99MaxMs: ms.optional(),
  stallMaxMs: ms.optional(),
  latencyP99MaxMs: ms.optional(),
});
const topic = z.strictObject({
  type: z
    .string()
    .regex(/^[A-Za-z][\w]*\/msg\/[A-Z]\w*$/, 'must be a ROS 2 message type such as std_msgs/msg/String'),
  publisher: qos,
  subscriber: qos,
  sample: z.strictObject({
    // 64 MiB: beyond that a "sample" is a file transfer, and a typo is likelier.
    bytes: z
      .number()
      .int()
      .min(1)
      .max(64 * 1024 * 1024),
    rateHz: z.number().positive().max(100_000),
  }),
  expect: z.record(z.string(), expectation),
});
const contractSchema = z.strictObject({
  model: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lower-case letters, digits, ".", "_" or "-"'),
  description: z.string().optional(),
  topics: z.record(z.string(), topic),
});

/** ROS 2 topic names: absolute, `/`-separated tokens of letters, digits and `_`. */
const TOPIC_NAME = /^(\/[A-Za-z_][A-Za-z0-9_]*)+$/;

/**
 * Validates parsed JSON as a QoS contract. `source` names the file in errors, which read
 * `qos-contract.json: topics./scan.expect.loss-10.deliveryMin must be <= 1`; the ConfigError's
 * `path` is that `file: field` prefix.
 */
export function parseQosContract(json: unknown, source = '<inline>'): QosContract {
  const file = basename(source);
  function fail(field: string, why: string): never {
    throw new ConfigError(`${file}: ${field}`, why);
  }
  const parsed = contractSchema.safeParse(json, { reportInput: true });
  if (!parsed.success) {
    const { path, message } = firstIssue(parsed.error);
    fail(path, message);
  }
  const names = Object.keys(parsed.data.topics);
  if (names.length === 0) fail('topics', 'must name at least one topic');
  const topics = names.map((name): TopicContract => {
    const t = parsed.data.topics[name]!;
    const at = `topics.${name}`;
    if (!TOPIC_NAME.test(name)) fail(at, 'is not a ROS 2 topic name (absolute, such as /cmd_vel)');
    for (const [profile, limits] of Object.entries(t.expect)) {
      try {
        parseUdpProfile(profile);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        fail(`${at}.expect.${profile}`, `is not a link profile (${UDP_PROFILE_GRAMMAR})`);
      }
      if (Object.values(limits).every((limit) => limit === undefined)) {
        fail(
          `${at}.expect.${profile}`,
          'sets no limit (deliveryMin, ageP99MaxMs, stallMaxMs or latencyP99MaxMs)',
        );
      }
    }
    return {
      name,
      type: t.type,
      publisher: t.publisher,
      subscriber: t.subscriber,
      sample: t.sample,
      expect: t.expect,
    };
  });
  const contract: QosContract = { model: parsed.data.model, topics, source };
  if (parsed.data.description !== undefined) contract.description = parsed.data.description;
  return contract;
}

/** Reads and validates a contract file; every error names the file. */
export function loadQosContract(path: string): QosContract {
  const file = basename(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(file, `cannot be read (${(error as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(file, `is not valid JSON (${(error as Error).message})`);
  }
  return parseQosContract(json, path);
}

/** The models that have a contract in `dir`. */
export function listQosContracts(dir = QOS_CONTRACT_DIR): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/**
 * The contract of a robot model, from `<dir>/<model>.json` (the reference models' directory by
 * default). The file must say it is that model's, so a copied file is not silently misapplied.
 */
export function contractForModel(model: string, options: { dir?: string } = {}): QosContract {
  const dir = options.dir ?? QOS_CONTRACT_DIR;
  const available = listQosContracts(dir);
  if (!available.includes(model)) {
    throw new ConfigError(
      'model',
      `'${model}' has no QoS contract in ${dir} (contracts: ${available.join(', ') || 'none'})`,
    );
  }
  const contract = loadQosContract(join(dir, `${model}.json`));
  if (contract.model !== model) {
    throw new ConfigError(`${model}.json: model`, `says '${contract.model}', expected '${model}'`);
  }
  return contract;
}
