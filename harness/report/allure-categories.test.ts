import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import type { Status } from 'allure-js-commons';
import { stripAnsi } from 'allure-js-commons/sdk';
import {
  ConfigError,
  GateFailedError,
  RobotDiedError,
  RobotUnreachableError,
  TimeoutError,
} from '../core/errors.ts';
import { ClaimError, CloudUnavailableError } from '../fleet/index.ts';
import { DockerUnavailableError } from '../fleet/docker/engine.ts';
import { ProcessWarningError } from '../fleet/process-warnings.ts';
import { NetnsCommandError } from '../net/netns/system.ts';
import { CallbackError } from '../ros/client.ts';
import {
  ALLURE_CATEGORIES,
  ALLURE_CATEGORIES_FILE,
  categoryMatches,
  writeAllureCategories,
} from './allure-categories.ts';

// Playwright's own serializer, so the messages are the ones the Allure reporter receives.
const { serializeError } = createRequire(import.meta.url)('playwright/lib/util') as {
  serializeError: (error: unknown) => { message?: string };
};

const reported = (error: unknown): string => stripAnsi(serializeError(error).message ?? '');

function thrownBy(assertion: () => void): unknown {
  try {
    assertion();
  } catch (error) {
    return error;
  }
  throw new Error('the assertion did not fail');
}

function categoriesOf(status: `${Status}`, message: string | undefined): string[] {
  return ALLURE_CATEGORIES.filter((category) => categoryMatches(category, status, message)).map(
    (category) => category.name!,
  );
}

const PRODUCT = 'Product failures';
const HARNESS = 'Harness and environment failures';

test.describe('Allure categories', () => {
  test("an oracle's failed expect is a product failure, and only that", () => {
    const plain = thrownBy(() =>
      expect(3, 'sim seconds spent in the dead zone: 3').toBeGreaterThanOrEqual(60),
    );
    const equal = thrownBy(() => expect(['r01: ended on 1.0.3'], 'good software is committed').toEqual([]));
    const unlabelled = thrownBy(() => expect('failure').toBe('success'));
    for (const error of [plain, equal, unlabelled]) {
      expect(categoriesOf('failed', reported(error)), reported(error)).toEqual([PRODUCT]);
    }
  });

  test('a missed gate, a crashed robot, a leak warning and an expect in a callback are product failures', () => {
    const errors = [
      new GateFailedError('HIL-001: p99 41.2 ms, budget 35 ms'),
      new RobotDiedError('r02', 'signal SIGSEGV', ['panic: nil map']),
      new ProcessWarningError('robot r01: MaxListenersExceededWarning'),
      new CallbackError(
        'r01',
        '/odom',
        thrownBy(() => expect(0.2, 'speed').toBeLessThan(0.1)),
      ),
    ];
    for (const error of errors)
      expect(categoriesOf('failed', reported(error)), reported(error)).toEqual([PRODUCT]);
  });

  test('timeouts reaching a robot, unreachable robots, failed starts and unmet claims are harness failures', () => {
    const errors = [
      new TimeoutError('robot r03: /odom at 0 Hz, expected >= 9 Hz over 5 s'),
      new RobotUnreachableError('r01', 'rosbridge at ws://127.0.0.1:40111 refused the connection'),
      new ConfigError('fleet.robots', 'must be a positive integer'),
      new ClaimError('claim of 3 robots (reset): the fleet has 2 robot(s) (r01, r02)'),
      new CloudUnavailableError('the fleet cloud did not answer on /health within 20 s'),
      new DockerUnavailableError('no Docker engine at /var/run/docker.sock'),
      new NetnsCommandError('ip netns add fd-a', 'Operation not permitted'),
      Object.assign(new Error('spawn node ENOENT'), { code: 'ENOENT' }),
      new Error('listen EADDRINUSE: address already in use 127.0.0.1:8474'),
    ];
    for (const error of errors)
      expect(categoriesOf('failed', reported(error)), reported(error)).toEqual([HARNESS]);
    expect(categoriesOf('broken', 'Test timeout of 60000ms exceeded.')).toEqual([HARNESS]);
  });

  test('a harness error quoting an expect is still harness, an expect quoting a timeout still product', () => {
    const harness = new TimeoutError('robot r01: no answer to expect(received) within 5 s');
    const product = thrownBy(() => expect('TimeoutError: robot r01', 'the last event').toBe('ok'));
    expect(categoriesOf('failed', reported(harness))).toEqual([HARNESS]);
    expect(categoriesOf('failed', reported(product))).toEqual([PRODUCT]);
  });

  test('a test.fail() drill that failed as declared is a known gap; a plain pass is no category', () => {
    const gap = reported(thrownBy(() => expect(0.4, 'loss across the dead zone').toBe(0)));
    expect(categoriesOf('passed', gap)).toEqual(['Known gaps']);
    expect(categoriesOf('passed', undefined)).toEqual([]);
    expect(categoriesOf('failed', gap)).toEqual([PRODUCT]);
  });

  test('an error of no known class falls to Allure’s defaults, in no category of ours', () => {
    expect(
      categoriesOf('failed', reported(new TypeError("Cannot read properties of undefined (reading 'id')"))),
    ).toEqual([]);
  });

  test('the regexes are strings Allure (Java) can read: no flags, no lookbehind', () => {
    for (const category of ALLURE_CATEGORIES) {
      expect(typeof category.messageRegex).toBe('string');
      expect(category.messageRegex).not.toMatch(/\(\?<[=!]|\(\?[a-z]+\)/);
    }
  });
});

test('the categories file of a merged results dir says what the reporter would, and leaves history alone', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetdrill-categories-'));
  try {
    await mkdir(join(dir, 'allure-results', 'history'), { recursive: true });
    await writeFile(join(dir, 'allure-results', 'history', 'history-trend.json'), '[{"data":{"passed":41}}]');
    await writeAllureCategories(join(dir, 'allure-results'));
    expect(await readFile(join(dir, 'allure-results', 'history', 'history-trend.json'), 'utf8')).toContain(
      '41',
    );
    const written = JSON.parse(
      await readFile(join(dir, 'allure-results', ALLURE_CATEGORIES_FILE), 'utf8'),
    ) as unknown;
    expect(written).toEqual(JSON.parse(JSON.stringify(ALLURE_CATEGORIES)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
