import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import {
  parseShard,
  readShardDirs,
  releaseSeed,
  sourcesOfShard,
  SHARD_MANIFEST,
  type ShardManifest,
} from './shards.ts';
import type { QualificationFile } from './types.ts';

const FILE: QualificationFile = {
  path: 'q.yaml',
  suite: { grep: '@release', backends: ['embedded'] },
  sources: { hil: true, qosMatrix: true, otaFuzz: { cuts: 16, client: 'fleetdrill' } },
  requirements: [],
};

test('--shard is i/n with 1 ≤ i ≤ n; none is 1/1', () => {
  expect(parseShard(undefined)).toEqual({ index: 1, total: 1 });
  expect(parseShard('2/4')).toEqual({ index: 2, total: 4 });
  for (const bad of ['0/2', '3/2', '1/0', 'a/b', '1-2'])
    expect(() => parseShard(bad), bad).toThrow(`--shard must be i/n with 1 ≤ i ≤ n ≤ 64, got '${bad}'`);
});

test('sources are dealt round-robin, each to exactly one shard; the seed follows the release', () => {
  expect(sourcesOfShard(FILE, { index: 1, total: 1 })).toEqual(['hil', 'qos-matrix', 'ota-fuzz']);
  expect(sourcesOfShard(FILE, { index: 1, total: 2 })).toEqual(['hil', 'ota-fuzz']);
  expect(sourcesOfShard(FILE, { index: 2, total: 2 })).toEqual(['qos-matrix']);
  expect(sourcesOfShard(FILE, { index: 4, total: 4 })).toEqual([]);
  expect(releaseSeed('2.4.0')).toBe(releaseSeed('2.4.0'));
  expect(releaseSeed('2.4.0')).not.toBe(releaseSeed('2.4.1'));
});

test('shard directories must be one run: same release, seed and count, each shard once; a missing one is named', async () => {
  const root = await mkdtemp(join(tmpdir(), `fleetdrill-${process.pid}-shards-`));
  const write = async (name: string, change: Partial<ShardManifest> = {}) => {
    const manifest: ShardManifest = {
      release: '2.4.0',
      seed: 7,
      shard: { index: 1, total: 3 },
      startedAt: '2026-12-03T00:00:00Z',
      finishedAt: '2026-12-03T00:01:00Z',
      sut: { release: '2.4.0', components: [] },
      backends: ['embedded'],
      drillExitCodes: { embedded: 0 },
      sources: [],
      missing: [],
      ...change,
    };
    await mkdir(join(root, name), { recursive: true });
    await writeFile(join(root, name, SHARD_MANIFEST), JSON.stringify(manifest));
    return join(root, name);
  };
  try {
    const one = await write('one');
    const two = await write('two', { shard: { index: 2, total: 3 } });
    const read = await readShardDirs([one, two]);
    expect(read.missingShards).toEqual([3]);
    expect(read.notes).toEqual(['shard 3/3 is missing: its drills and sources are not judged']);

    await expect(
      readShardDirs([one, await write('r', { release: '2.4.1', shard: { index: 2, total: 3 } })]),
    ).rejects.toThrow('is release 2.4.1');
    await expect(
      readShardDirs([one, await write('s', { seed: 8, shard: { index: 2, total: 3 } })]),
    ).rejects.toThrow('ran with seed 8');
    await expect(readShardDirs([one, await write('n', { shard: { index: 2, total: 4 } })])).rejects.toThrow(
      'is shard 2/4',
    );
    await expect(readShardDirs([one, await write('again')])).rejects.toThrow('is shard 1/3 again');
    await expect(readShardDirs([join(root, 'nothing')])).rejects.toThrow("is not a shard's manifest");
    await expect(readShardDirs([])).rejects.toThrow('needs at least one shard directory');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
