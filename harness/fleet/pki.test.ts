import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { knownSecrets } from '../core/secrets.ts';
import { FleetPki } from './pki.ts';

test("the run's keys are known secrets from the moment they are made: the operator's and each issued one", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetdrill-pki-'));
  try {
    const pki = await FleetPki.create(dir, 'pki-test');
    const robot = await pki.issue({ kind: 'robot', name: 'r01' });
    const known = knownSecrets().map((secret) => secret.value);
    expect(known).toContain(pki.operator.identity.keyPem.trim());
    expect(known).toContain(robot.keyPem.trim());
    expect(known).not.toContain(robot.certPem.trim());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
