import { ConfigError } from '../core/errors.ts';
import type { SeededRandom } from '../core/seed.ts';
import type { ToxicName } from '../core/toxic-names.ts';

/** Which way a toxic acts: `upstream` is harness→robot, `downstream` is robot→harness. */
export type Stream = 'upstream' | 'downstream';

/** One Toxiproxy toxic, as the HTTP API takes it (name is added when applied). */
export interface ToxicSpec {
  type: ToxicName;
  stream: Stream;
  toxicity?: number;
  attributes: Record<string, number>;
}

/** What a link looks like for a while: its toxics, or the proxy switched off (`down`). */
export interface LinkState {
  toxics: readonly ToxicSpec[];
  /** False takes the proxy down: live connections close, new ones are refused. */
  enabled: boolean;
}

/** One phase of a profile; the last phase holds until the profile is replaced. */
export interface ProfilePhase extends LinkState {
  /** How long this phase lasts (ms); omitted on the last phase. */
  forMs?: number;
}

/**
 * A named link condition. Most are one steady phase; some (a roaming handover) are a short
 * sequence. `phases` takes the run's random source so seeded profiles replay identically.
 */
export interface LinkProfile {
  name: string;
  description: string;
  phases(random: SeededRandom): ProfilePhase[];
}

/** Both directions get the same toxic: a radio link degrades both ways. */
function both(type: ToxicSpec['type'], attributes: Record<string, number>): ToxicSpec[] {
  return [
    { type, stream: 'downstream', attributes },
    { type, stream: 'upstream', attributes },
  ];
}

function latency(ms: number, jitterMs: number): ToxicSpec[] {
  return both('latency', { latency: ms, jitter: jitterMs });
}

/** Bandwidth in KB/s (1 KB = 1000 B) from the robot and to it. */
function bandwidth(downKBps: number, upKBps: number): ToxicSpec[] {
  return [
    { type: 'bandwidth', stream: 'downstream', attributes: { rate: downKBps } },
    { type: 'bandwidth', stream: 'upstream', attributes: { rate: upKBps } },
  ];
}

function steady(name: string, description: string, state: LinkState): LinkProfile {
  return { name, description, phases: () => [{ ...state }] };
}

/** The link as the harness found it: no toxics, proxy up. */
export const CLEAR: LinkState = { toxics: [], enabled: true };

/** Black hole with the connection kept open: the TCP face of a Wi-Fi dead zone. */
const DEAD: LinkState = { toxics: both('timeout', { timeout: 0 }), enabled: true };

/** The built-in profiles, by name. Figures are typical of warehouse Wi-Fi and public LTE. */
export const BUILTIN_PROFILES: ReadonlyMap<string, LinkProfile> = new Map(
  (
    [
      steady('clear', 'no impairment', CLEAR),
      steady('wifi-good', 'close to an access point: 5 ± 2 ms', {
        toxics: latency(5, 2),
        enabled: true,
      }),
      steady('wifi-congested', 'busy channel: 40 ± 30 ms, 500 KB/s down, 250 KB/s up', {
        toxics: [...latency(40, 30), ...bandwidth(500, 250)],
        enabled: true,
      }),
      steady('wifi-edge', 'edge of coverage: 120 ± 100 ms, 60 KB/s down, 30 KB/s up', {
        toxics: [...latency(120, 100), ...bandwidth(60, 30)],
        enabled: true,
      }),
      steady('lte', 'public LTE: 60 ± 20 ms, 2 MB/s down, 600 KB/s up', {
        toxics: [...latency(60, 20), ...bandwidth(2000, 600)],
        enabled: true,
      }),
      steady('dead', 'no coverage: connections stay open, nothing passes', DEAD),
      steady('down', 'proxy disabled: connections close, new ones are refused', {
        toxics: [],
        enabled: false,
      }),
      {
        name: 'roaming-handover',
        description: 'handover between access points: black hole of 50 ms–2 s, then 300 ± 100 ms for 2 s',
        phases: (random: SeededRandom) => [
          { ...DEAD, forMs: random.int(50, 2_000) },
          { toxics: latency(300, 100), enabled: true, forMs: 2_000 },
          { toxics: latency(5, 2), enabled: true },
        ],
      },
    ] satisfies LinkProfile[]
  ).map((profile) => [profile.name, profile]),
);

/** A profile defined in configuration: one steady state. */
export interface CustomProfileConfig {
  description?: string;
  toxics?: ToxicSpec[];
  enabled?: boolean;
}

/** Built-in profiles plus custom ones from config; a custom name may not shadow a built-in. */
export class ProfileRegistry {
  private readonly profiles = new Map(BUILTIN_PROFILES);

  constructor(custom: Readonly<Record<string, CustomProfileConfig>> = {}) {
    for (const [name, config] of Object.entries(custom)) {
      if (this.profiles.has(name)) {
        throw new ConfigError(`net.profiles.${name}`, 'shadows a built-in profile; pick another name');
      }
      this.profiles.set(
        name,
        steady(name, config.description ?? 'custom profile', {
          toxics: config.toxics ?? [],
          enabled: config.enabled ?? true,
        }),
      );
    }
  }

  names(): string[] {
    return [...this.profiles.keys()];
  }

  /** The profile with this name; the error lists the ones there are. */
  get(name: string): LinkProfile {
    const profile = this.profiles.get(name);
    if (!profile) {
      throw new ConfigError(
        'profile',
        `'${name}' is not a link profile (profiles: ${this.names().join(', ')})`,
      );
    }
    return profile;
  }

  /**
   * Several profiles at once, such as `['lte', 'roaming-handover']`: at every moment the link
   * carries the toxics of every profile's current phase, and is down if any of them is down.
   */
  combine(names: readonly string[]): LinkProfile {
    if (names.length === 1) return this.get(names[0] as string);
    const parts = names.map((name) => this.get(name));
    return {
      name: names.join('+'),
      description: parts.map((part) => part.description).join('; plus '),
      phases: (random) => combinePhases(parts.map((part) => part.phases(random))),
    };
  }
}

/** Merges phase lists that change at different times into one list of steady stretches. */
export function combinePhases(lists: readonly ProfilePhase[][]): ProfilePhase[] {
  const cuts = new Set<number>([0]);
  for (const list of lists) {
    let at = 0;
    for (const phase of list) {
      if (phase.forMs === undefined) break;
      at += phase.forMs;
      cuts.add(at);
    }
  }
  const times = [...cuts].sort((a, b) => a - b);
  return times.map((start, index) => {
    const states = lists.map((list) => phaseAt(list, start));
    const next = times[index + 1];
    const phase: ProfilePhase = {
      toxics: states.flatMap((state) => state.toxics),
      enabled: states.every((state) => state.enabled),
    };
    if (next !== undefined) phase.forMs = next - start;
    return phase;
  });
}

function phaseAt(list: readonly ProfilePhase[], at: number): LinkState {
  let start = 0;
  for (const phase of list) {
    if (phase.forMs === undefined || at < start + phase.forMs) return phase;
    start += phase.forMs;
  }
  return list.at(-1) ?? CLEAR;
}
