/**
 * Container-image OTA (docs/container-ota.md): the robot's software container swapped for a new
 * image pulled from a local registry through the fault layer, with a health check, a rollback,
 * and power cuts during the pull and the swap. One robot, one registry and one cloud per worker;
 * each row deploys an image the robot has never run.
 */
import {
  ContainerOtaRig,
  containerOtaUnavailable,
  expect,
  runContainerOtaDrill,
  test as base,
  withDetail,
  type ContainerOtaDrill,
} from '../harness/index.ts';

const COMMITTED = ['Download', 'ArtifactInstall', 'ArtifactCommit'];
const ROLLED_BACK = ['Download', 'ArtifactInstall', 'ArtifactRollback', 'ArtifactFailure'];

/** The table: what is deployed, what goes wrong, and what must come of it. */
export const CONTAINER_OTA_DRILLS: readonly ContainerOtaDrill[] = [
  {
    name: 'good image: pulled, started, healthy, committed',
    deploy: { variant: 'good' },
    expect: { status: 'success', ends: 'new', states: COMMITTED },
  },
  {
    name: 'crashes on start: rolled back to the old image, failure reported',
    deploy: { variant: 'crashes-on-boot' },
    expect: { status: 'failure', ends: 'old', states: ROLLED_BACK, message: 'exited with code 70' },
  },
  {
    name: 'fails its health check: rolled back to the old image, failure reported',
    deploy: { variant: 'fails-self-test' },
    expect: { status: 'failure', ends: 'old', states: ROLLED_BACK, message: 'failed its health check' },
  },
  {
    name: 'image missing from the registry: the old image keeps running, failure reported',
    deploy: { missing: true },
    expect: {
      status: 'failure',
      ends: 'old',
      states: ['Download', 'ArtifactFailure'],
      message: 'is not in the registry',
    },
  },
  {
    name: 'registry unreachable in a dead zone: the pull resumes after it, committed',
    deploy: { variant: 'good' },
    fault: 'dead-zone',
    expect: { status: 'success', ends: 'new', states: COMMITTED },
  },
  {
    name: 'power cut during the pull: the old image runs after power-on, the update resumes, committed',
    deploy: { variant: 'good' },
    fault: 'power-cut-pull',
    expect: { status: 'success', ends: 'new', states: COMMITTED },
  },
  {
    name: 'power cut during the swap: the old image runs after power-on, the swap is redone, committed',
    deploy: { variant: 'good' },
    fault: 'power-cut-swap',
    expect: {
      status: 'success',
      ends: 'new',
      states: ['Download', 'ArtifactInstall', 'ArtifactInstall', 'ArtifactCommit'],
    },
  },
];

const test = base.extend<object, { containerRig: ContainerOtaRig | string }>({
  // One robot with its registry and cloud per worker: the rows share it, each from where the last left it.
  containerRig: [
    async ({ backend }, use) => {
      const why =
        backend === 'docker'
          ? await containerOtaUnavailable()
          : 'runs on the docker backend (projects docker, docker-all)';
      if (why) {
        await use(why);
        return;
      }
      const rig = await ContainerOtaRig.start();
      try {
        await use(rig);
      } finally {
        await rig.stop();
      }
    },
    { scope: 'worker', timeout: 180_000 },
  ],
});

test.describe('OTA: container images', { tag: ['@ota', '@docker', '@nightly', '@container-ota'] }, () => {
  for (const drill of CONTAINER_OTA_DRILLS) {
    test(drill.name, async ({ containerRig }) => {
      test.skip(typeof containerRig === 'string', typeof containerRig === 'string' ? containerRig : '');
      test.setTimeout(150_000);
      const result = await runContainerOtaDrill(containerRig as ContainerOtaRig, drill);
      await test.info().attach('container ota drill', {
        body: JSON.stringify({ drill, result }, null, 2),
        contentType: 'application/json',
      });
      expect(result.problems, withDetail(drill.name, result.message)).toEqual([]);
    });
  }
});
