import { expect, test } from '@playwright/test';
import { parseRegistryAddress, REGISTRY_ENV } from './rig.ts';

test('a user registry address is host:port, and a bad one names the variable', () => {
  expect(parseRegistryAddress(undefined)).toBeUndefined();
  expect(parseRegistryAddress('')).toBeUndefined();
  expect(parseRegistryAddress('10.0.0.5:5000')).toBe('10.0.0.5:5000');
  expect(parseRegistryAddress('registry.lab:443')).toBe('registry.lab:443');
  for (const bad of ['10.0.0.5', 'http://10.0.0.5:5000', 'host:99999', 'host:5000/path']) {
    expect(() => parseRegistryAddress(bad)).toThrow(`${REGISTRY_ENV} must be host:port`);
  }
});
