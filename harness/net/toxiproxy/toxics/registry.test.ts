import { expect, test } from '@playwright/test';
import { TOXIC_NAMES } from '../../../core/toxic-names.ts';
import { toxicType, toxicTypeNames } from './registry.ts';

// The config schema, link profiles and CLI help accept core's TOXIC_NAMES; the server must
// implement exactly those, or a profile could name a toxic the server then refuses.
test('the registry implements exactly the toxic names the config and profiles accept', () => {
  expect(toxicTypeNames()).toEqual([...TOXIC_NAMES]);
  for (const name of TOXIC_NAMES) expect(toxicType(name)?.type, name).toBe(name);
});
