import { expect, test } from '@playwright/test';
import { runContainerOtaDrill } from './drills.ts';
import { registryUnavailable, startRegistry } from './registry.ts';
import { ContainerOtaRig, containerOtaUnavailable, parseRegistryAddress, REGISTRY_ENV } from './rig.ts';

test('a user registry address is host:port, and a bad one names the variable', () => {
  expect(parseRegistryAddress(undefined)).toBeUndefined();
  expect(parseRegistryAddress('')).toBeUndefined();
  expect(parseRegistryAddress('10.0.0.5:5000')).toBe('10.0.0.5:5000');
  expect(parseRegistryAddress('registry.lab:443')).toBe('registry.lab:443');
  for (const bad of ['10.0.0.5', 'http://10.0.0.5:5000', 'host:99999', 'host:5000/path']) {
    expect(() => parseRegistryAddress(bad)).toThrow(`${REGISTRY_ENV} must be host:port`);
  }
});

test("a user's registry: the rig pushes there, pulls through the fault layer, and leaves the registry running", async () => {
  const unavailable = await containerOtaUnavailable();
  test.skip(unavailable !== undefined, unavailable ?? '');
  test.setTimeout(180_000);
  // Another docker-registry stands in for the user's: the rig did not start it and must not stop it.
  const theirs = await startRegistry();
  try {
    const rig = await ContainerOtaRig.start({ registry: theirs.address, seed: 5 });
    try {
      expect(rig.registry.pid, 'no registry process of the rig').toBeUndefined();
      const result = await runContainerOtaDrill(rig, {
        name: 'good, on a user registry',
        deploy: { variant: 'good' },
        expect: { status: 'success', ends: 'new', states: ['Download', 'ArtifactInstall', 'ArtifactCommit'] },
      });
      expect(result.problems).toEqual([]);
      expect(result.running).toContain(rig.pullAddress);
      const tags = (await (
        await fetch(`http://${theirs.address}/v2/fleetdrill/robot-app/tags/list`)
      ).json()) as { tags: string[] };
      expect(
        tags.tags.every((tag) => tag.endsWith(rig.run)),
        tags.tags.join(', '),
      ).toBe(true);
      expect(tags.tags.length).toBe(2);
    } finally {
      await rig.stop();
    }
    const answer = await fetch(`http://${theirs.address}/v2/`);
    expect(answer.status, "the user's registry still answers after the rig stopped").toBe(200);
  } finally {
    await theirs.stop();
  }
});

test('without docker-registry the drills skip, saying what to install', () => {
  expect(registryUnavailable('/nonexistent/docker-registry')).toBe(
    'no /nonexistent/docker-registry (Debian: apt-get install -y docker-registry)',
  );
});
