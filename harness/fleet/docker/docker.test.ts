import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { referenceFleet } from '../../testing/reference-fleet.ts';
import { nestedRun, type NestedRun } from '../../testing/nested-run.ts';
import { checkEngine, dockerClient, LABELS, ownerLabel, removeLeftovers } from './engine.ts';
import { ensureImage } from './images.ts';
import { FleetContainer, ServiceContainer } from './service-container.ts';

const docker = dockerClient();
const engineUp = await checkEngine(docker).then(
  () => true,
  () => false,
);

// CI installs and starts a Docker engine; there these tests must run. Elsewhere, without one, they
// are skipped, saying why.
test.skip(!engineUp && !process.env.CI, 'no Docker engine on this machine (see docs/docker-backend.md)');

/** Containers and networks whose owner label is `owner`: what a run of that process left. */
async function ownedBy(owner: string): Promise<{ containers: string[]; networks: string[] }> {
  const filters = { label: [`${LABELS.owner}=${owner}`] };
  const [containers, networks] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
  ]);
  return {
    containers: containers.map((info) => `${info.Names[0]} (${info.State})`),
    networks: networks.map((info) => info.Name),
  };
}

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

async function volumeCount(): Promise<number> {
  return ((await docker.listVolumes()).Volumes ?? []).length;
}

test.describe('docker backend', () => {
  test.describe.configure({ timeout: 120_000 });

  test('no Docker engine: a message that says what to do', async () => {
    const missing = dockerClient();
    // A socket path that cannot exist: what a machine without Docker looks like to the client.
    (missing.modem as unknown as { socketPath: string }).socketPath = '/nonexistent/docker.sock';
    const error = await checkEngine(missing).then(
      () => undefined,
      (caught: unknown) => caught as Error,
    );
    expect(error?.message).toContain('no Docker engine answers');
    expect(error?.message).toContain('apt-get install -y docker.io');
    expect(error?.message).toContain('--backend embedded');
  });

  test('images are built once and then reused while their inputs stay the same', async () => {
    const first = await ensureImage(docker, 'toxiproxy');
    const second = await ensureImage(docker, 'toxiproxy');
    expect(second.tag).toBe(first.tag);
    expect(second.built, 'the second call found the image').toBe(false);
    expect((await docker.getImage(second.tag).inspect()).Config.Labels?.['fleetdrill.image']).toBe(
      'toxiproxy',
    );
  });

  test('a robot image that exits on start: the error shows its last log lines, and nothing is left', async () => {
    // The cloud's image as a robot: a real wrong image, whose program refuses the robot's flags.
    const cloud = await ensureImage(docker, 'cloud');
    const volumes = await volumeCount();
    const error = await referenceFleet({
      robots: 2,
      seed: 7,
      backend: 'docker',
      robotImage: cloud.tag,
    })
      .start()
      .then(
        () => undefined,
        (caught: unknown) => caught as Error,
      );
    expect(error, 'the fleet did not start').toBeDefined();
    expect(error!.message).toMatch(
      /robot r0[12]: robot container \(fleetdrill\/cloud:\w+\) exited during boot/,
    );
    expect(error!.message).toContain('--- last log lines of r0');
    expect(error!.message, 'the image’s own complaint').toMatch(/Unknown option '--id'/);
    expect(await ownedBy(ownerLabel())).toEqual({ containers: [], networks: [] });
    expect(await volumeCount(), 'no volume made').toBe(volumes);
  });

  test('a container whose command cannot run: a clear error, and it is removed', async () => {
    const image = (await ensureImage(docker, 'toxiproxy')).tag;
    const dir = mkdtempSync(join(tmpdir(), 'fleetdrill-docker-test-'));
    const labels = { [LABELS.managed]: 'true', [LABELS.owner]: ownerLabel() };
    const service = new ServiceContainer({
      docker,
      container: new FleetContainer(image).withEntrypoint(['/no/such/program']).withLabels(labels),
      logPath: join(dir, 'console.log'),
      bootTimeoutMs: 10_000,
      validateReady: (line) => line,
      startError: (message, tail) => new Error(`${message} | ${tail.join(' / ')}`),
    });
    try {
      const error = await service.start().then(
        () => undefined,
        (caught: unknown) => caught as Error,
      );
      // docker's init runs the entry point and says why it could not.
      expect(error?.message).toMatch(
        /exited during boot \(exit code 127\) \|.*exec \/no\/such\/program failed: No such file or directory/,
      );
      expect(await ownedBy(ownerLabel())).toEqual({ containers: [], networks: [] });
    } finally {
      await service.remove();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('leftovers of a run whose process is gone are removed at the next start; live runs are not', async () => {
    const image = (await ensureImage(docker, 'toxiproxy')).tag;
    // pid 2^22 + 1 is above Linux's pid_max limit: no such process can exist.
    const dead = `${hostname()}:4194305`;
    const labels = (owner: string) => ({ [LABELS.managed]: 'true', [LABELS.owner]: owner });
    const network = await docker.createNetwork({ Name: `fd-test-dead-${Date.now()}`, Labels: labels(dead) });
    const orphan = await docker.createContainer({ Image: image, Labels: labels(dead) });
    const mine = await docker.createContainer({ Image: image, Labels: labels(ownerLabel()) });
    try {
      const removed = await removeLeftovers(docker);
      expect(removed.containers).toBeGreaterThanOrEqual(1);
      expect(await ownedBy(dead)).toEqual({ containers: [], networks: [] });
      expect((await docker.getContainer(mine.id).inspect()).Id, 'a live run keeps its containers').toBe(
        mine.id,
      );
    } finally {
      await mine.remove({ force: true });
      await orphan.remove({ force: true }).catch(() => {});
      await network.remove().catch(() => {});
    }
  });
});

test.describe('docker hygiene: nothing outlives a run on containers', () => {
  test.describe.configure({ mode: 'default', timeout: 180_000 });
  const onDocker = { HYGIENE_BACKEND: 'docker' };
  let run: NestedRun | undefined;
  let volumes = 0;
  test.beforeEach(async () => {
    volumes = await volumeCount();
  });
  test.afterEach(() => {
    if (run) rmSync(run.tmp, { recursive: true, force: true });
    run = undefined;
  });

  async function expectNothingLeft(done: NestedRun): Promise<void> {
    expect(done.workerPid, `the drill never got under way:\n${done.output}`).toBeDefined();
    expect(await ownedBy(`${hostname()}:${done.workerPid}`), 'containers or networks left').toEqual({
      containers: [],
      networks: [],
    });
    expect(await volumeCount(), 'volumes left').toBe(volumes);
  }

  test('after a passing run', async () => {
    run = await nestedRun('pass', undefined, onDocker);
    expect(run.exitCode, run.output).toBe(0);
    await expectNothingLeft(run);
  });

  test('after a failing run', async () => {
    run = await nestedRun('fail', undefined, onDocker);
    expect(run.exitCode, run.output).toBe(1);
    expect(run.output).toContain('this drill fails on purpose');
    await expectNothingLeft(run);
  });

  test('after Ctrl-C (SIGINT to the runner and its workers) in the middle of a drill', async () => {
    run = await nestedRun('hang', { signal: 'SIGINT', target: 'group' }, onDocker);
    expect(run.exitCode, run.output).not.toBe(0);
    await expectNothingLeft(run);
  });

  test('after the runner is SIGKILLed: the next start removes its containers and network', async () => {
    run = await nestedRun('hang', { signal: 'SIGKILL', target: 'group' }, onDocker);
    expect(run.workerPid, run.output).toBeDefined();
    // The worker dies with the runner; wait until it is really gone (not even a zombie).
    await expect.poll(() => processGone(run!.workerPid!), { timeout: 15_000 }).toBe(true);
    // Nothing runs after SIGKILL; the containers live on until the next docker run sweeps them
    // (a parallel test's start may sweep them first: either way they must be gone after this).
    await removeLeftovers(docker);
    await expectNothingLeft(run);
  });
});
