/* SemVer precedence and the client's version decision: each case is one a wrong order would get wrong. */
import { expect, test } from '@playwright/test';
import { compareVersions, decideVersion, VersionFormatError } from './version.ts';

// Each pair is [older, newer]: semver.org's own precedence example and the cases around it.
const ORDERED: Array<[string, string]> = [
  ['1.0.0', '1.0.1'],
  ['1.0.9', '1.0.10'],
  ['1.9.0', '1.10.0'],
  ['1.99.99', '2.0.0'],
  ['0.9.0', '1.0.0'],
  ['1.0.0-alpha', '1.0.0-alpha.1'],
  ['1.0.0-alpha.1', '1.0.0-alpha.beta'],
  ['1.0.0-alpha.beta', '1.0.0-beta'],
  ['1.0.0-beta', '1.0.0-beta.2'],
  ['1.0.0-beta.2', '1.0.0-beta.11'],
  ['1.0.0-beta.11', '1.0.0-rc.1'],
  ['1.0.0-rc.1', '1.0.0'],
];

for (const [older, newer] of ORDERED) {
  test(`${older} precedes ${newer}`, () => {
    expect(compareVersions(older, newer)).toBe(-1);
    expect(compareVersions(newer, older)).toBe(1);
  });
}

test('build metadata does not count: 1.0.1+b2 and 1.0.1+b1 have the same precedence', () => {
  expect(compareVersions('1.0.1+b2', '1.0.1+b1')).toBe(0);
  expect(compareVersions('1.0.1', '1.0.1')).toBe(0);
});

test('a version that is not semver cannot be ordered and says which', () => {
  expect(() => compareVersions('1.0', '1.0.0')).toThrow(VersionFormatError);
  expect(() => compareVersions('1.0.0', 'v1.0.1')).toThrow(/"v1\.0\.1" is not a semver version/);
  expect(() => compareVersions('01.0.0', '1.0.0')).toThrow(/"01\.0\.0"/);
});

test('a newer artifact is installed, without being called a downgrade', () => {
  expect(decideVersion('1.0.1', '1.0.2', false)).toEqual({ action: 'install', downgrade: false });
  expect(decideVersion('1.0.1-rc.1', '1.0.1', false)).toEqual({ action: 'install', downgrade: false });
});

test('an older artifact is refused, naming both versions, unless the deployment allows it', () => {
  expect(decideVersion('1.0.1', '1.0.0', false)).toEqual({
    action: 'refuse',
    reason:
      'downgrade refused: artifact 1.0.0 is older than running 1.0.1 (the deployment does not set allowDowngrade)',
  });
  // A pre-release of the running version is older than it.
  expect(decideVersion('1.0.1', '1.0.1-rc.1', false)).toMatchObject({ action: 'refuse' });
  expect(decideVersion('1.0.1', '1.0.0', true)).toEqual({ action: 'install', downgrade: true });
});

test('the running version is already installed, whether or not downgrades are allowed', () => {
  for (const allow of [false, true]) {
    expect(decideVersion('1.0.1', '1.0.1', allow)).toEqual({
      action: 'already-installed',
      reason: '1.0.1 is already installed',
    });
    expect(decideVersion('1.0.1+b1', '1.0.1+b2', allow)).toMatchObject({ action: 'already-installed' });
  }
});

test('a version that cannot be ordered is refused, even where downgrades are allowed', () => {
  expect(decideVersion('1.0.1', 'latest', true)).toEqual({
    action: 'refuse',
    reason:
      'cannot order artifact latest against running 1.0.1: version "latest" is not a semver version such as 1.2.3',
  });
});
