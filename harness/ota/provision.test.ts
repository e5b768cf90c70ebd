/* What a fleet's robots are provisioned with by default, what a fleet's settings change, and the boot settings it refuses. */
import { existsSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import type { OtaClientName } from '../../protocol/disk-layout.ts';
import { ConfigError } from '../core/errors.ts';
import { loadTestKeyPair } from './keys.ts';
import { FACTORY_VERSION, provisionRobots, type FleetSoftwareOptions } from './provision.ts';
import { buildRobotVariant, DRILL_SLOT_CAPACITY } from './variants.ts';

test('by default robots boot the good factory image under fleetdrill and trust the test key', async () => {
  const { software, agent } = await provisionRobots()();
  const factory = await buildRobotVariant({ variant: 'good', version: FACTORY_VERSION });
  expect(software).toEqual({
    factoryArtifact: factory.path,
    bootlimit: 1,
    bootDeadlineMs: 10_000,
    otaClient: 'fleetdrill',
  });
  expect(existsSync(software.factoryArtifact)).toBe(true);
  expect(agent).toEqual({
    ota: {
      client: 'fleetdrill',
      publicKeys: [loadTestKeyPair('test-ota').publicKeyPem],
      slotCapacity: DRILL_SLOT_CAPACITY,
    },
  });
});

test("a fleet's own agent settings and boot settings are kept", async () => {
  const provision = provisionRobots({
    software: { bootlimit: 3, bootDeadlineMs: 60_000, factoryVersion: '1.0.0' },
    agent: { metricsHz: 1, ota: { pollIntervalMs: 250, publicKeys: ['PEM'], slotCapacity: 1024 } },
  });
  const { software, agent } = await provision();
  expect(software).toMatchObject({ bootlimit: 3, bootDeadlineMs: 60_000, otaClient: 'fleetdrill' });
  expect(agent).toEqual({
    metricsHz: 1,
    ota: { pollIntervalMs: 250, publicKeys: ['PEM'], slotCapacity: 1024, client: 'fleetdrill' },
  });
});

test('boot settings and clients it cannot boot are refused, naming the field', async () => {
  const cases: Array<[FleetSoftwareOptions, string, string]> = [
    [{ bootlimit: 0 }, 'software.bootlimit', 'must be a whole number >= 1, got 0'],
    [{ bootlimit: 1.5 }, 'software.bootlimit', 'got 1.5'],
    [{ bootDeadlineMs: 0 }, 'software.bootDeadlineMs', 'must be a whole number of ms >= 1, got 0'],
    [
      { otaClient: 'nope' as OtaClientName },
      'software.otaClient',
      'must be one of fleetdrill, mender, rauc, swupdate, got "nope"',
    ],
  ];
  for (const [software, path, message] of cases) {
    const error = await provisionRobots({ software })().catch((caught: unknown) => caught);
    expect(error, JSON.stringify(software)).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).path).toBe(path);
    expect((error as Error).message).toContain(message);
  }
});
