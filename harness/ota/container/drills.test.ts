/**
 * Each oracle of the container-OTA drills fires on evidence that is wrong in its one way, and
 * a row that held passes clean.
 */
import { expect, test } from '@playwright/test';
import type { UpdaterState } from '../../../protocol/container-update.ts';
import type { DeploymentDetail, DeploymentRobot } from '../../../protocol/ota-cloud.ts';
import { judgeContainerOta, type ContainerOtaDrill, type ContainerOtaEvidence } from './drills.ts';

const OLD = '127.0.0.1:5001/fleetdrill/robot-app:1.0.0-good';
const NEW = '127.0.0.1:5001/fleetdrill/robot-app:2.0.1-good';
const GOOD: ContainerOtaDrill = {
  name: 'good',
  deploy: { variant: 'good' },
  expect: { status: 'success', ends: 'new', states: ['Download', 'ArtifactInstall', 'ArtifactCommit'] },
};
const CRASH: ContainerOtaDrill = {
  name: 'crash',
  deploy: { variant: 'crashes-on-boot' },
  expect: {
    status: 'failure',
    ends: 'old',
    states: ['Download', 'ArtifactInstall', 'ArtifactRollback', 'ArtifactFailure'],
    message: 'exited with code 70',
  },
};

function deployment(states: string[], status: 'success' | 'failure', message: string): DeploymentDetail {
  const robot: DeploymentRobot = {
    robotId: 'r01',
    canary: false,
    offeredAt: 1_000,
    state: states.at(-1) as DeploymentRobot['state'],
    status,
    message,
    startedAt: 1_100,
    finishedAt: 4_000,
    bytesServed: 500,
    history: states.map((state, i) => ({
      t: 1_100 + i,
      state: state as DeploymentRobot['state'] & string,
      status: i === states.length - 1 ? status : null,
      message: i === states.length - 1 ? message : null,
    })),
  };
  return {
    id: 'd1',
    name: 'drill',
    artifactId: 'a'.repeat(64),
    canaryPercent: 0,
    failureThreshold: 0.5,
    allowDowngrade: false,
    status: 'finished',
    createdAt: 1_000,
    counts: {
      robots: 1,
      canaries: 0,
      offered: 1,
      started: 1,
      finished: 1,
      success: 1,
      failure: 0,
      alreadyInstalled: 0,
    },
    canaries: [],
    events: [],
    robots: [robot],
  };
}

function state(image: string, status: 'success' | 'failure'): UpdaterState {
  return {
    format: 1,
    robotId: 'r01',
    current: { image, name: 'dev-app-1' },
    last: { deploymentId: 'd1', status, message: 'm' },
  };
}

function goodEvidence(): ContainerOtaEvidence {
  return {
    oldImage: OLD,
    newImage: NEW,
    deployment: deployment([...GOOD.expect.states], 'success', `running ${NEW}`),
    containers: [{ name: 'dev-app-1', image: NEW, running: true }],
    state: state(NEW, 'success'),
    samples: [
      { ms: 0, running: [OLD] },
      { ms: 250, running: [] },
      { ms: 500, running: [NEW] },
    ],
    pullRetries: 0,
    health: { status: 'healthy', version: '2.0.1' },
  };
}

const judge = (drill: ContainerOtaDrill, seen: ContainerOtaEvidence): string[] =>
  judgeContainerOta(drill, 'r01', seen).problems;

test('a row that held has no problems', () => {
  expect(judge(GOOD, goodEvidence())).toEqual([]);
  const rolledBack: ContainerOtaEvidence = {
    ...goodEvidence(),
    deployment: deployment(
      [...CRASH.expect.states],
      'failure',
      `${NEW} exited with code 70 on start; rolled back`,
    ),
    containers: [{ name: 'dev-app-0', image: OLD, running: true }],
    state: state(OLD, 'failure'),
    health: { status: 'healthy', version: '1.0.0' },
  };
  expect(judge(CRASH, rolledBack)).toEqual([]);
});

test('never without software: none running, two running, two at once, a leftover, nothing after power-on', () => {
  expect(judge(GOOD, { ...goodEvidence(), containers: [] }).join()).toContain(
    '0 software containers run at the end',
  );
  expect(
    judge(GOOD, {
      ...goodEvidence(),
      containers: [
        { name: 'a', image: OLD, running: true },
        { name: 'b', image: NEW, running: true },
      ],
    }).join(),
  ).toContain('2 software containers run at the end');
  expect(judge(GOOD, { ...goodEvidence(), samples: [{ ms: 300, running: [OLD, NEW] }] }).join()).toContain(
    'ran at once',
  );
  expect(
    judge(GOOD, {
      ...goodEvidence(),
      containers: [...goodEvidence().containers, { name: 'half', image: NEW, running: false }],
    }).join(),
  ).toContain('half made or stopped: half');
  expect(judge(GOOD, { ...goodEvidence(), afterPowerOn: [] }).join()).toContain(
    'after the power-on 0 software containers run',
  );
  expect(
    judge(GOOD, { ...goodEvidence(), afterPowerOn: [{ name: 'x', image: 'other:1', running: true }] }).join(),
  ).toContain('neither the old nor the new image');
});

test("the software's own word: unhealthy, silent or another version fires", () => {
  expect(judge(GOOD, { ...goodEvidence(), health: { status: 'failed', failures: ['x'] } }).join()).toContain(
    'not healthy at the end',
  );
  expect(judge(GOOD, { ...goodEvidence(), health: undefined }).join()).toContain(
    'not healthy at the end: no answer',
  );
  expect(
    judge(GOOD, { ...goodEvidence(), health: { status: 'healthy', version: '1.0.0' } }).join(),
  ).toContain('reports version 1.0.0, expected 2.0.1');
});

test('the wrong image running is named', () => {
  expect(
    judge(GOOD, { ...goodEvidence(), containers: [{ name: 'dev-app-0', image: OLD, running: true }] }).join(),
  ).toContain(`runs ${OLD}, expected ${NEW}`);
});

test('converged: the updater and the cloud must agree', () => {
  expect(judge(GOOD, { ...goodEvidence(), state: undefined }).join()).toContain('no state file');
  expect(judge(GOOD, { ...goodEvidence(), state: state(OLD, 'success') }).join()).toContain(
    "the updater's state says",
  );
  expect(judge(GOOD, { ...goodEvidence(), state: state(NEW, 'failure') }).join()).toContain(
    'the updater says failure, the cloud success',
  );
  expect(
    judge(GOOD, {
      ...goodEvidence(),
      state: {
        ...state(NEW, 'success'),
        pending: { deploymentId: 'd1', phase: 'swapping', next: { image: NEW, name: 'n' }, resumes: 0 },
      },
    }).join(),
  ).toContain('still has an update in phase swapping');
});

test('failure reported: a wrong status, a silent message or wrong states fire', () => {
  const seen = goodEvidence();
  expect(
    judge(CRASH, {
      ...seen,
      containers: [{ name: 'dev-app-0', image: OLD, running: true }],
      state: state(OLD, 'success'),
    }).join(),
  ).toContain('status success, expected failure');
  const quiet = {
    ...seen,
    deployment: deployment([...CRASH.expect.states], 'failure', 'something went wrong'),
    containers: [{ name: 'dev-app-0', image: OLD, running: true }],
    state: state(OLD, 'failure'),
  };
  expect(judge(CRASH, quiet).join()).toContain('does not say "exited with code 70"');
  expect(
    judge(GOOD, { ...seen, deployment: deployment(['ArtifactCommit'], 'success', 'ok') }).join(),
  ).toContain('states [ArtifactCommit]');
});

test('a fault that did not hit where the row says is "could not tell"', () => {
  expect(judge({ ...GOOD, fault: 'dead-zone' }, goodEvidence()).join()).toContain(
    'could not tell: the dead zone never made a pull fail',
  );
  expect(judge({ ...GOOD, fault: 'power-cut-pull' }, goodEvidence()).join()).toContain(
    'could not tell: no power cut happened',
  );
  expect(
    judge(
      { ...GOOD, fault: 'power-cut-pull' },
      { ...goodEvidence(), cut: { phase: 'pulling', imagePresent: true } },
    ).join(),
  ).toContain('the pull had finished before the power cut');
  expect(
    judge(
      { ...GOOD, fault: 'power-cut-swap' },
      { ...goodEvidence(), cut: { phase: 'committing', imagePresent: true } },
    ).join(),
  ).toContain('hit in phase committing, not swapping');
  expect(
    judge(
      { ...GOOD, fault: 'power-cut-swap' },
      { ...goodEvidence(), cut: { phase: 'swapping', imagePresent: true } },
    ),
  ).toEqual([]);
});
