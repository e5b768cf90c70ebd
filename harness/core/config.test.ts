import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { DEFAULT_CONFIG, loadConfig, parseCount, parsePositive, validateConfig } from './config.ts';
import { ConfigError } from './errors.ts';

test.describe('config', () => {
  let dir: string;
  test.beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleetdrill-config-test-'));
  });
  test.afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('defaults when there is no file and no environment', () => {
    expect(loadConfig({}, dir)).toEqual(DEFAULT_CONFIG);
  });

  test('file overrides defaults, environment overrides the file', () => {
    writeFileSync(join(dir, 'fleetdrill.config.json'), JSON.stringify({ fleet: { robots: 7, rtf: 2 } }));
    const config = loadConfig({ FLEETDRILL_ROBOTS: '9', FLEETDRILL_SEED: '42' }, dir);
    expect(config.fleet.robots).toBe(9);
    expect(config.fleet.rtf).toBe(2);
    expect(config.fleet.world).toBe('warehouse');
    expect(config.seed).toBe(42);
  });

  test('errors name the field and the bad value', () => {
    writeFileSync(join(dir, 'fleetdrill.config.json'), JSON.stringify({ fleet: { robots: 'many' } }));
    expect(() => loadConfig({}, dir)).toThrow('fleet.robots must be a number');
    expect(() => loadConfig({ FLEETDRILL_ROBOTS: 'abc' }, dir)).toThrow(
      "FLEETDRILL_ROBOTS must be a whole number from 1 to 500, got 'abc'",
    );
    expect(() => validateConfig({ fleet: { ...DEFAULT_CONFIG.fleet, backend: 'k8s' } })).toThrow(
      'fleet.backend must be one of "embedded"',
    );
    expect(() => validateConfig({ fleet: { ...DEFAULT_CONFIG.fleet, colour: 'red' } })).toThrow(
      'fleet has unknown key "colour"',
    );
  });

  test('custom link profiles come from the file and are validated', () => {
    const satellite = {
      description: 'geo link',
      toxics: [{ type: 'latency', stream: 'downstream', attributes: { latency: 600, jitter: 50 } }],
    };
    writeFileSync(join(dir, 'fleetdrill.config.json'), JSON.stringify({ net: { profiles: { satellite } } }));
    expect(loadConfig({}, dir).net.profiles.satellite).toEqual(satellite);
    const bad = { toxics: [{ type: 'packet_magic', stream: 'downstream', attributes: {} }] };
    writeFileSync(join(dir, 'fleetdrill.config.json'), JSON.stringify({ net: { profiles: { bad } } }));
    expect(() => loadConfig({}, dir)).toThrow(
      /^net\.profiles\.bad\.toxics\[0\]\.type must be one of "latency"/,
    );
  });

  test('a config file that is not JSON is named in the error', () => {
    writeFileSync(join(dir, 'fleetdrill.config.json'), '{ robots: 3');
    expect(() => loadConfig({}, dir)).toThrow(/fleetdrill\.config\.json is not valid JSON/);
  });

  test('parseCount and parsePositive reject what is not a count', () => {
    expect(parseCount('5', '--robots')).toBe(5);
    for (const bad of ['0', '-1', 'abc', '1.5', '', '501', '1e3']) {
      expect(() => parseCount(bad, '--robots'), bad).toThrow(ConfigError);
    }
    expect(parsePositive('0.5', '--rtf')).toBe(0.5);
    for (const bad of ['0', '-2', 'fast', '', 'Infinity']) {
      expect(() => parsePositive(bad, '--rtf'), bad).toThrow(/--rtf must be a positive number/);
    }
  });
});
