/**
 * A qualification over shards: what each shard runs, what it leaves in its directory, and how the
 * directories are read back and checked before they are merged into one verdict.
 *
 * The drills are split by Playwright (`--shard i/n`); the evidence sources beside them (HIL stage,
 * QoS matrix, OTA fuzz) are dealt out round-robin, so n machines share the wall time. Every shard
 * runs with the same seed, derived from the release unless given, so the slices replay the
 * unsharded run.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../../core/errors.ts';
import { deriveSeed } from '../../core/seed.ts';
import type { QualificationFile, SoftwareUnderTest } from './types.ts';

/** The evidence sources besides the drills. */
export type SourceName = 'hil' | 'qos-matrix' | 'ota-fuzz';

/** `i/n`, 1-based. */
export interface Shard {
  index: number;
  total: number;
}

/** What a shard's directory says of itself (`shard.json`). */
export interface ShardManifest {
  release: string;
  seed: number;
  shard: Shard;
  startedAt: string;
  finishedAt: string;
  sut: SoftwareUnderTest;
  /** Backends whose drills this shard ran; each has its blob report in `blob/<backend>/`. */
  backends: string[];
  /** The Playwright run's exit code per backend (1 when a drill failed; other codes are errors). */
  drillExitCodes: Record<string, number>;
  /** Sources this shard ran, each with its raw result in `sources/<name>.json`. */
  sources: SourceName[];
  /** Sources this shard was dealt that did not run or gave nothing, with why. */
  missing: Array<{ source: string; reason: string }>;
}

export const SHARD_MANIFEST = 'shard.json';

/** Parses `--shard i/n`. */
export function parseShard(value: string | undefined): Shard {
  if (value === undefined) return { index: 1, total: 1 };
  const match = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = Number(match?.[1]);
  const total = Number(match?.[2]);
  if (!match || total < 1 || index < 1 || index > total || total > 64)
    throw new ConfigError('--shard', `must be i/n with 1 ≤ i ≤ n ≤ 64, got '${value}'`);
  return { index, total };
}

export function shardLabel(shard: Shard): string {
  return `${shard.index}/${shard.total}`;
}

/** The sources the file asks for, in a fixed order. */
export function requestedSources(file: QualificationFile): SourceName[] {
  const sources: SourceName[] = [];
  if (file.sources.hil) sources.push('hil');
  if (file.sources.qosMatrix) sources.push('qos-matrix');
  if (file.sources.otaFuzz) sources.push('ota-fuzz');
  return sources;
}

/** The sources shard `shard` runs: the k-th source goes to shard (k mod n) + 1. */
export function sourcesOfShard(file: QualificationFile, shard: Shard): SourceName[] {
  return requestedSources(file).filter((_, k) => (k % shard.total) + 1 === shard.index);
}

/** The seed of a release's qualification when none is given: the same on every shard. */
export function releaseSeed(release: string): number {
  return deriveSeed(0, 'qualify', release);
}

/** Reads and checks the shards' manifests: one release, one seed, shards 1..n each once. */
export async function readShardDirs(dirs: readonly string[]): Promise<{
  manifests: Array<ShardManifest & { dir: string }>;
  notes: string[];
  missingShards: number[];
}> {
  if (dirs.length === 0) throw new ConfigError('merge', 'needs at least one shard directory');
  const manifests: Array<ShardManifest & { dir: string }> = [];
  for (const dir of dirs) {
    const path = join(dir, SHARD_MANIFEST);
    let manifest: ShardManifest;
    try {
      manifest = JSON.parse(await readFile(path, 'utf8')) as ShardManifest;
    } catch (error) {
      throw new ConfigError(path, `is not a shard's manifest: ${(error as Error).message}`);
    }
    manifests.push({ ...manifest, dir });
  }
  const first = manifests[0]!;
  for (const m of manifests) {
    if (m.release !== first.release)
      throw new ConfigError(m.dir, `is release ${m.release}, ${first.dir} is ${first.release}`);
    if (m.seed !== first.seed)
      throw new ConfigError(m.dir, `ran with seed ${m.seed}, ${first.dir} with ${first.seed}: not one run`);
    if (m.shard.total !== first.shard.total)
      throw new ConfigError(
        m.dir,
        `is shard ${shardLabel(m.shard)}, ${first.dir} is ${shardLabel(first.shard)}`,
      );
  }
  const seen = new Map<number, string>();
  for (const m of manifests) {
    const other = seen.get(m.shard.index);
    if (other) throw new ConfigError(m.dir, `is shard ${shardLabel(m.shard)} again (also ${other})`);
    seen.set(m.shard.index, m.dir);
  }
  const missingShards: number[] = [];
  for (let i = 1; i <= first.shard.total; i++) if (!seen.has(i)) missingShards.push(i);
  const notes = missingShards.map(
    (i) => `shard ${i}/${first.shard.total} is missing: its drills and sources are not judged`,
  );
  return { manifests, notes, missingShards };
}
