import { expect, test } from '@playwright/test';
import { ConfigError } from '../core/errors.ts';
import { backendFactory, type BackendStart } from './backends.ts';

const start: BackendStart = {
  runDir: '/nonexistent/fleetdrill-backends-test',
  robots: 1,
  seed: 1,
  bootTimeoutMs: 1_000,
  telemetry: false,
  robotImage: undefined,
  otaClient: 'fleetdrill',
  listenAddress: '127.0.0.1',
};

test('every backend of the config has a factory', () => {
  expect(typeof backendFactory('embedded')).toBe('function');
  expect(typeof backendFactory('docker')).toBe('function');
});

test('an unknown backend names the field and the backends there are', () => {
  for (const name of ['vm', 'toString', '__proto__']) {
    expect(() => backendFactory(name), name).toThrow(ConfigError);
    expect(() => backendFactory(name), name).toThrow(
      `backend must be one of embedded, docker, got ${JSON.stringify(name)}`,
    );
  }
});

test('a robot image of the user needs the docker backend, before anything starts', async () => {
  const error = await backendFactory('embedded')({ ...start, robotImage: 'my/robot:1' }).catch(
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).path).toBe('robotImage');
  expect((error as Error).message).toBe('robotImage needs the docker backend (this fleet runs on embedded)');
});

test('a real OTA client needs the embedded backend, before any container starts', async () => {
  const error = await backendFactory('docker')({ ...start, otaClient: 'rauc' }).catch(
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).path).toBe('software.otaClient');
  expect((error as Error).message).toContain('rauc runs on the embedded backend only');
  expect((error as Error).message).toContain('(this fleet runs on docker)');
});
