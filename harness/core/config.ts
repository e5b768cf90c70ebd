import { OTA_CLIENTS, type OtaClientName } from '../../protocol/disk-layout.ts';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.ts';
import { SEED_ENV, parseSeed } from './seed.ts';
import { firstIssue } from '../../protocol/zod-issues.ts';
import { budgetSchema, type HilBudgets } from './hil-budget.ts';
import { TOXIC_NAMES, type ToxicName } from './toxic-names.ts';
import { LISTEN_ADDRESS_ENV, parseListenAddress } from './listen-address.ts';

/** Backends a fleet can run on. */
export const BACKENDS = ['embedded', 'docker'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** The most robots one fleet may have: a guard against typos such as `--robots 10000`. */
export const MAX_ROBOTS = 500;

/** Everything a run can be configured with. Defaults < fleetdrill.config.json < environment. */
export interface FleetdrillConfig {
  fleet: {
    /** How many robots to start. */
    robots: number;
    /** World name from reference/worlds, or a path to a world JSON file. */
    world: string;
    /** Simulation real-time factor (2 = sim time runs twice as fast as the wall clock). */
    rtf: number;
    /** Where robots run. */
    backend: BackendName;
    /** How long a robot's boot may go without progress before it is stuck (see FleetOptions). */
    readyTimeoutMs: number;
    /** Run an edge agent on every robot and a fleet cloud beside the fleet. */
    telemetry: boolean;
    /** Docker backend: the robot image to run instead of the reference robot's (a Gazebo robot). */
    robotImage?: string;
    /**
     * The IPv4 address the run's servers listen on (default 127.0.0.1, this machine only); any
     * other is printed as a warning (docs/security.md, "Listening sockets").
     */
    listenAddress?: string;
    /**
     * The agent ↔ cloud link through a WireGuard tunnel behind a NAT (docs/vpn.md): `true` for
     * every robot, or which robots and how. Embedded backend, root. Default off.
     */
    vpn?: boolean | { robots?: string[]; keepaliveS?: number; natUdpTimeoutS?: number };
  };
  /** OTA updates. */
  ota: {
    /**
     * Who updates the robots: `fleetdrill` (its own client) or a real one, `mender`, `rauc` or
     * `swupdate`, on a real disk (embedded backend, root).
     */
    client: OtaClientName;
  };
  /** The fault layer. */
  net: {
    /** Custom link profiles by name: one steady state each, beside the built-in ones. */
    profiles: Record<string, { description?: string; toxics: ToxicConfig[]; enabled?: boolean }>;
  };
  /** The hardware-in-the-loop stage: measurement discipline and latency budgets. */
  hil: {
    /** SingleStream discipline every stage is held to. */
    discipline: { warmupQueries: number; minQueries: number; minDurationMs: number };
    /** Budgets by model (file name without .onnx), then by stage kind (`local`, `ssh`). */
    budgets: HilBudgets;
  };
  /** The run's seed; unset means "pick one and print it". */
  seed?: number;
}

/** A toxic in a custom profile, as the Toxiproxy API takes it. */
export interface ToxicConfig {
  type: ToxicName;
  stream: 'upstream' | 'downstream';
  toxicity?: number;
  attributes: Record<string, number>;
}

export const DEFAULT_CONFIG: FleetdrillConfig = {
  fleet: {
    robots: 3,
    world: 'warehouse',
    rtf: 1,
    backend: 'embedded',
    readyTimeoutMs: 20_000,
    telemetry: true,
  },
  ota: { client: 'fleetdrill' },
  net: { profiles: {} },
  hil: {
    discipline: { warmupQueries: 20, minQueries: 500, minDurationMs: 10_000 },
    budgets: {
      // The reference perception model (reference/models): on one core of a CI machine it needs
      // about 8 ms; on a Jetson Orin with TensorRT FP16, well under 2 ms.
      'perception-cnn': {
        local: { p99Ms: 50, minThroughputQps: 30 },
        ssh: { p99Ms: 5, minThroughputQps: 300, maxTemperatureC: 85, noThrottling: true },
      },
    },
  },
};

const toxicSchema = z
  .object({
    type: z.enum(TOXIC_NAMES),
    stream: z.enum(['upstream', 'downstream']),
    toxicity: z.number().min(0).max(1).optional(),
    attributes: z.record(z.string(), z.number()),
  })
  .strict();

const schema = z
  .object({
    fleet: z
      .object({
        robots: z.number().int().min(1).max(MAX_ROBOTS),
        world: z.string().min(1),
        rtf: z.number().positive().max(1000),
        backend: z.enum(BACKENDS),
        readyTimeoutMs: z.number().int().positive(),
        telemetry: z.boolean(),
        robotImage: z.string().min(1).optional(),
        listenAddress: z.ipv4().optional(),
        vpn: z
          .union([
            z.boolean(),
            z
              .object({
                robots: z.array(z.string().min(1)).min(1).optional(),
                keepaliveS: z.number().int().min(0).max(65_535).optional(),
                natUdpTimeoutS: z.number().int().min(0).max(65_535).optional(),
              })
              .strict(),
          ])
          .optional(),
      })
      .strict(),
    ota: z.object({ client: z.enum(OTA_CLIENTS) }).strict(),
    net: z
      .object({
        profiles: z.record(
          z.string().min(1),
          z
            .object({
              description: z.string().optional(),
              toxics: z.array(toxicSchema),
              enabled: z.boolean().optional(),
            })
            .strict(),
        ),
      })
      .strict(),
    hil: z
      .object({
        discipline: z
          .object({
            warmupQueries: z.number().int().min(0),
            minQueries: z.number().int().min(1),
            minDurationMs: z.number().int().min(0),
          })
          .strict(),
        budgets: z.record(
          z.string().min(1),
          z.object({ local: budgetSchema.optional(), ssh: budgetSchema.optional() }).strict(),
        ),
      })
      .strict(),
    seed: z.number().int().min(0).max(0xffffffff).optional(),
  })
  .strict();

/** Environment variables that override the config file, and the field each one sets. */
export const CONFIG_ENV = {
  FLEETDRILL_ROBOTS: 'fleet.robots',
  FLEETDRILL_WORLD: 'fleet.world',
  FLEETDRILL_RTF: 'fleet.rtf',
  FLEETDRILL_BACKEND: 'fleet.backend',
  FLEETDRILL_TELEMETRY: 'fleet.telemetry',
  FLEETDRILL_ROBOT_IMAGE: 'fleet.robotImage',
  [LISTEN_ADDRESS_ENV]: 'fleet.listenAddress',
  FLEETDRILL_VPN: 'fleet.vpn',
} as const;

/** Overrides `ota.client`: what `fleetdrill run --ota-client` sets for the workers. */
export const OTA_CLIENT_ENV = 'FLEETDRILL_OTA_CLIENT';

/** Checks a backend name from user input, naming the flag. */
export function parseBackend(value: string, field = '--backend'): BackendName {
  if (!(BACKENDS as readonly string[]).includes(value)) {
    throw new ConfigError(field, `must be one of ${BACKENDS.join(', ')}, got '${value}'`);
  }
  return value as BackendName;
}

/** Parses an on/off switch from the environment. */
export function parseSwitch(value: string, field: string): boolean {
  const normalized = value.trim().toLowerCase();
  if (['1', 'true', 'on', 'yes'].includes(normalized)) return true;
  if (['0', 'false', 'off', 'no'].includes(normalized)) return false;
  throw new ConfigError(field, `must be one of 1, 0, true, false, on, off, got '${value}'`);
}

/** Parses a whole number from user input, naming the field when it is not one. */
export function parseCount(value: string, field: string, min = 1, max = MAX_ROBOTS): number {
  const trimmed = value.trim();
  if (!/^[+]?\d+$/.test(trimmed) || Number(trimmed) < min || Number(trimmed) > max) {
    throw new ConfigError(field, `must be a whole number from ${min} to ${max}, got '${value}'`);
  }
  return Number(trimmed);
}

/** Parses a positive number (such as a real-time factor) from user input. */
export function parsePositive(value: string, field: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed <= 0) {
    throw new ConfigError(field, `must be a positive number, got '${value}'`);
  }
  return parsed;
}

/**
 * Loads the config: defaults, then `fleetdrill.config.json` (or FLEETDRILL_CONFIG), then the
 * environment, validated once with messages that name the field.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): FleetdrillConfig {
  const merged = structuredClone(DEFAULT_CONFIG) as FleetdrillConfig & Record<string, unknown>;
  const file = env.FLEETDRILL_CONFIG
    ? resolve(cwd, env.FLEETDRILL_CONFIG)
    : resolve(cwd, 'fleetdrill.config.json');
  if (existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ConfigError(file, `is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(file, 'must hold a JSON object');
    }
    const fromFile = parsed as Record<string, unknown>;
    Object.assign(merged, fromFile, {
      fleet: { ...merged.fleet, ...(fromFile.fleet as object | undefined) },
      ota: { ...merged.ota, ...(fromFile.ota as object | undefined) },
      net: { ...merged.net, ...(fromFile.net as object | undefined) },
      hil: mergeHil(merged.hil, fromFile.hil),
    });
  } else if (env.FLEETDRILL_CONFIG) {
    throw new ConfigError('FLEETDRILL_CONFIG', `names a file that does not exist: ${file}`);
  }
  for (const [name, field] of Object.entries(CONFIG_ENV)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const key = field.split('.')[1] as keyof FleetdrillConfig['fleet'];
    const fleet = merged.fleet as unknown as Record<string, unknown>;
    fleet[key] =
      key === 'robots'
        ? parseCount(value, name)
        : key === 'rtf'
          ? parsePositive(value, name)
          : key === 'telemetry' || key === 'vpn'
            ? parseSwitch(value, name)
            : key === 'listenAddress'
              ? parseListenAddress(value, name)
              : value;
  }
  if (env[OTA_CLIENT_ENV]) merged.ota = { ...merged.ota, client: env[OTA_CLIENT_ENV] as OtaClientName };
  if (env[SEED_ENV]) merged.seed = parseSeed(env[SEED_ENV]);
  return validateConfig(merged);
}

/** A file's `hil` section over the defaults: its budgets add to (or replace, per model) the built-in ones. */
function mergeHil(defaults: FleetdrillConfig['hil'], fromFile: unknown): unknown {
  if (typeof fromFile !== 'object' || fromFile === null) return fromFile ?? defaults;
  const hil = fromFile as Record<string, unknown>;
  return {
    ...defaults,
    ...hil,
    discipline: { ...defaults.discipline, ...(hil.discipline as object | undefined) },
    budgets: { ...defaults.budgets, ...(hil.budgets as object | undefined) },
  };
}

/** Validates a config object, throwing a ConfigError naming the first bad field. */
export function validateConfig(candidate: unknown): FleetdrillConfig {
  const result = schema.safeParse(candidate, { reportInput: true });
  if (result.success) return result.data;
  const { path, message } = firstIssue(result.error);
  throw new ConfigError(path, message);
}
