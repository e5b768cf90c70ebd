/**
 * Container-image update drills as rows of data, run by one runner and judged by one pure
 * function, as the A/B drills are (drills.ts): each row says what is deployed, which fault hits
 * (a dead zone on the registry link, a power cut during the pull or the swap) and what must come
 * of it. The oracles are the A/B drills' where they apply: never without software, converged,
 * failure reported.
 */
import { execFile } from 'node:child_process';
import type { AppHealth, UpdaterState } from '../../../protocol/container-update.ts';
import type { DeploymentDetail, TerminalStatus } from '../../../protocol/ota-cloud.ts';
import { APP_LABELS } from '../../../protocol/container-update.ts';
import { reportedStates } from '../../fleet/clients/fleet-ota.ts';
import type { AppVariant } from './app-images.ts';
import type { AppContainer, ContainerOtaRig } from './rig.ts';

/** Faults a row can inject. */
export type ContainerOtaFault =
  /** The registry link is down from before the deployment until the updater has failed to pull, and a while longer. */
  | 'dead-zone'
  /** A power cut once the pull is under way (the link slowed so that it lasts). */
  | 'power-cut-pull'
  /** A power cut once the old container is stopped and the new one created, before it is healthy. */
  | 'power-cut-swap';

/** One row of the container-OTA table. */
export interface ContainerOtaDrill {
  name: string;
  /** A pushed image of the variant, or a tag never pushed. */
  deploy: { variant: AppVariant } | { missing: true };
  fault?: ContainerOtaFault;
  expect: {
    status: Extract<TerminalStatus, 'success' | 'failure'>;
    ends: 'old' | 'new';
    /** The states the robot reported, in order, the terminal one included. */
    states: readonly string[];
    /** Words the failure message must hold: what went wrong, named. */
    message?: string;
  };
}

/** The robot's software containers at one moment. */
export interface ContainerSample {
  ms: number;
  running: string[];
}

/** What a drill saw, for {@link judgeContainerOta}. */
export interface ContainerOtaEvidence {
  oldImage: string;
  newImage: string;
  deployment: DeploymentDetail;
  /** The software containers once the deployment finished. */
  containers: AppContainer[];
  /** The updater's state file then. */
  state: UpdaterState | undefined;
  /** The images running, sampled through the drill. */
  samples: ContainerSample[];
  /** The software containers right after a power-on's reconcile, when the row cut power. */
  afterPowerOn?: AppContainer[];
  /** Pulls the updater saw fail for want of a registry (its log). */
  pullRetries: number;
  /** What the running software last answered its health check (its version when healthy). */
  health?: AppHealth;
  /** Where the power cut hit: the update's phase, and whether the new image was on the engine yet. */
  cut?: { phase: string | undefined; imagePresent: boolean };
}

/** A row's outcome. */
export interface ContainerOtaResult {
  drill: string;
  robot: string;
  oldImage: string;
  newImage: string;
  status: TerminalStatus | null;
  message: string | null;
  states: string[];
  /** The image running at the end, if exactly one ran. */
  running: string | null;
  ms: number;
  /** From the deployment's creation to its terminal report (cloud clock). */
  deploymentMs: number | null;
  /** Empty when the row held. */
  problems: string[];
}

/** `…/robot-app:1.2.3-good-…` → `1.2.3`. */
function versionOfImage(image: string): string | undefined {
  return /:(\d+\.\d+\.\d+)-/.exec(image)?.[1];
}

const runningOf = (containers: readonly AppContainer[]): AppContainer[] =>
  containers.filter((c) => c.running);

/**
 * Judges a row. Each check names the robot; "could not tell" is said where the drill did not
 * create the situation it meant to (a cut that missed its phase), never passed as a product fault.
 * Pure, so that each check can be shown to fire.
 */
export function judgeContainerOta(
  drill: ContainerOtaDrill,
  robotId: string,
  seen: ContainerOtaEvidence,
): Omit<ContainerOtaResult, 'ms'> {
  const problems: string[] = [];
  const robot = seen.deployment.robots.find((entry) => entry.robotId === robotId);
  const states = robot ? reportedStates(robot) : [];
  const endImage = drill.expect.ends === 'new' ? seen.newImage : seen.oldImage;
  // Failure reported: the cloud's record is the verdict, with the reason in words.
  if (!robot) problems.push(`deployment ${seen.deployment.id} does not list ${robotId}`);
  if (robot?.status !== drill.expect.status) {
    problems.push(
      `status ${robot?.status ?? 'none'}, expected ${drill.expect.status} (${robot?.message ?? 'no message'})`,
    );
  }
  if (drill.expect.message && !(robot?.message ?? '').includes(drill.expect.message)) {
    problems.push(
      `the reported message does not say "${drill.expect.message}": ${robot?.message ?? 'no message'}`,
    );
  }
  if (states.join(' ') !== drill.expect.states.join(' ')) {
    problems.push(`states [${states.join(', ')}], expected [${drill.expect.states.join(', ')}]`);
  }
  // Never without software: one container at the end, one after a power-on, never two at once.
  const running = runningOf(seen.containers);
  if (running.length !== 1) {
    problems.push(
      `${running.length} software containers run at the end (${running.map((c) => c.image).join(', ') || 'none'}), expected exactly one`,
    );
  } else if (running[0]!.image !== endImage) {
    problems.push(`runs ${running[0]!.image}, expected ${endImage} (${drill.expect.ends})`);
  } else {
    // The software's own word: healthy, and the version its image was pushed as.
    const want = versionOfImage(endImage);
    if (seen.health?.status !== 'healthy') {
      problems.push(
        `the software is not healthy at the end: ${seen.health ? JSON.stringify(seen.health) : 'no answer'}`,
      );
    } else if (want !== undefined && seen.health.version !== want) {
      problems.push(`the software reports version ${seen.health.version}, expected ${want}`);
    }
  }
  const idle = seen.containers.filter((c) => !c.running);
  if (idle.length)
    problems.push(`containers left half made or stopped: ${idle.map((c) => c.name).join(', ')}`);
  if (seen.afterPowerOn !== undefined) {
    const on = runningOf(seen.afterPowerOn);
    if (on.length !== 1)
      problems.push(`after the power-on ${on.length} software containers run, expected exactly one`);
    else if (on[0]!.image !== seen.oldImage && on[0]!.image !== seen.newImage) {
      problems.push(`after the power-on it runs ${on[0]!.image}, neither the old nor the new image`);
    }
  }
  const crowded = seen.samples.find((sample) => sample.running.length > 1);
  if (crowded)
    problems.push(
      `${crowded.running.length} software containers ran at once at ${crowded.ms} ms: ${crowded.running.join(', ')}`,
    );
  // Converged: the robot's own record, the engine and the cloud say the same.
  if (!seen.state) problems.push('the updater left no state file');
  else {
    if (seen.state.pending)
      problems.push(`the updater still has an update in phase ${seen.state.pending.phase}`);
    if (seen.state.current.image !== endImage) {
      problems.push(`the updater's state says ${seen.state.current.image}, expected ${endImage}`);
    }
    if (seen.state.last?.deploymentId !== seen.deployment.id) {
      problems.push(
        `the updater's last deployment is ${seen.state.last?.deploymentId ?? 'none'}, not ${seen.deployment.id}`,
      );
    } else if (seen.state.last.status !== robot?.status) {
      problems.push(`the updater says ${seen.state.last.status}, the cloud ${robot?.status ?? 'nothing'}`);
    }
  }
  // The faults must have hit where the row says, or the row proved nothing.
  if (drill.fault === 'dead-zone' && seen.pullRetries === 0) {
    problems.push('could not tell: the dead zone never made a pull fail');
  }
  if (drill.fault === 'power-cut-pull' || drill.fault === 'power-cut-swap') {
    const want = drill.fault === 'power-cut-pull' ? 'pulling' : 'swapping';
    if (!seen.cut) problems.push('could not tell: no power cut happened');
    else if (seen.cut.phase !== want)
      problems.push(`could not tell: the power cut hit in phase ${seen.cut.phase ?? 'none'}, not ${want}`);
    else if (want === 'pulling' && seen.cut.imagePresent)
      problems.push('could not tell: the pull had finished before the power cut');
  }
  const finishedAt = robot?.finishedAt ?? null;
  return {
    drill: drill.name,
    robot: robotId,
    oldImage: seen.oldImage,
    newImage: seen.newImage,
    status: robot?.status ?? null,
    message: robot?.message ?? null,
    states,
    running: running.length === 1 ? running[0]!.image : null,
    deploymentMs: finishedAt === null ? null : finishedAt - seen.deployment.createdAt,
    problems: problems.map((problem) => `robot ${robotId}: ${problem}`),
  };
}

/** Samples which images run, every `everyMs`, until stopped. */
function sampleContainers(device: string, everyMs = 250): { stop(): ContainerSample[] } {
  const samples: ContainerSample[] = [];
  const startedAt = performance.now();
  let busy = false;
  // Asynchronous: the fault layer's proxy, which the robot pulls through, runs in this process.
  const take = (): void => {
    if (busy) return;
    busy = true;
    const ms = Math.round(performance.now() - startedAt);
    execFile(
      'docker',
      [
        'ps',
        '--filter',
        `label=${APP_LABELS.robot}=${device}`,
        '--format',
        `{{.Label "${APP_LABELS.image}"}}`,
      ],
      { timeout: 10_000 },
      (error, stdout) => {
        busy = false;
        if (!error) samples.push({ ms, running: stdout.split('\n').filter(Boolean) });
      },
    );
  };
  const timer = setInterval(take, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return samples;
    },
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`container OTA: ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let versions = 0;

/** Runs one row on the rig's robot, to the end, and judges it. */
export async function runContainerOtaDrill(
  rig: ContainerOtaRig,
  drill: ContainerOtaDrill,
  options: { timeoutMs?: number } = {},
): Promise<ContainerOtaResult> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? 90_000;
  const before = await rig.updaterState();
  if (!before) throw new Error(`robot ${rig.robotId}: the updater has written no state yet`);
  const oldImage = before.current.image;
  // A version per row, so each row's image is one the robot has never run.
  const version = `2.${process.pid % 1000}.${++versions}`;
  const newImage =
    'variant' in drill.deploy
      ? await rig.push(drill.deploy.variant, version)
      : rig.imageRef(`${version}-never-pushed`);
  const retriesBefore = rig.updaterLog().filter((line) => line.includes('retrying')).length;
  const sampler = sampleContainers(rig.device);
  let cut: ContainerOtaEvidence['cut'];
  let afterPowerOn: AppContainer[] | undefined;
  try {
    if (drill.fault === 'dead-zone') await rig.registryLink(false);
    if (drill.fault === 'power-cut-pull') await rig.registryBandwidth(400);
    const deployment = await rig.deploy(newImage, `${drill.name} on ${rig.robotId}`);
    if (drill.fault === 'dead-zone') {
      await until(
        'the updater saw the registry unreachable',
        () =>
          Promise.resolve(
            rig.updaterLog().filter((line) => line.includes('retrying')).length > retriesBefore
              ? true
              : undefined,
          ),
        timeoutMs,
      );
      // The dead zone lasts past the first failure: the updater must keep trying, not give up.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      await rig.registryLink(true);
    }
    if (drill.fault === 'power-cut-pull' || drill.fault === 'power-cut-swap') {
      const phase = drill.fault === 'power-cut-pull' ? 'pulling' : 'swapping';
      const state = await until(
        `the update reached ${phase}`,
        async () => {
          const now = await rig.updaterState();
          if (now?.pending?.phase !== phase) return undefined;
          if (phase === 'swapping' && !rig.containers().some((c) => c.name === now.pending!.next.name))
            return undefined;
          return now;
        },
        timeoutMs,
      );
      // Into the pull, not at its first byte.
      if (phase === 'pulling') await new Promise((resolve) => setTimeout(resolve, 1_500));
      const imagePresent = rig.hasImage(newImage);
      await rig.powerCut();
      cut = { phase: (await rig.updaterState())?.pending?.phase ?? state.pending?.phase, imagePresent };
      if (drill.fault === 'power-cut-pull') await rig.registryBandwidth(undefined);
      await rig.powerOn();
      afterPowerOn = rig.containers();
    }
    const finished = await rig.ota.waitUntilFinished(deployment.id, { timeoutMs });
    const samples = sampler.stop();
    const containers = rig.containers();
    const alone = containers.filter((c) => c.running);
    const result = judgeContainerOta(drill, rig.robotId, {
      oldImage,
      newImage,
      deployment: finished,
      containers,
      health: alone.length === 1 ? rig.softwareHealth(alone[0]!.name) : undefined,
      state: await rig.updaterState(),
      samples,
      afterPowerOn,
      pullRetries: rig.updaterLog().filter((line) => line.includes('retrying')).length - retriesBefore,
      cut,
    });
    return { ...result, ms: Math.round(performance.now() - started) };
  } finally {
    sampler.stop();
    if (drill.fault === 'dead-zone') await rig.registryLink(true).catch(() => undefined);
  }
}
