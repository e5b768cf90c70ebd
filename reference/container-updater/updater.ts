/**
 * The robot's container updater: swaps the robot's software container for a new image when the
 * fleet cloud deploys one, the way balena's supervisor or a Watchtower-style agent does, with a
 * health check and a rollback.
 *
 * One update: the cloud offers a deployment whose artifact is a signed image reference
 * (protocol/container-update.ts). The updater verifies it, pulls the image (retrying while the
 * registry cannot be reached), stops the old container, starts the new one and waits on its
 * Docker health check; healthy, it removes the old container (commit), otherwise it removes the
 * new one and starts the old one again (rollback). It reports each step as the edge agent reports
 * an A/B update, so the cloud's record reads the same.
 *
 * Before each step it writes where it stands to its state file (atomically), so that a start
 * after a power cut reconciles: exactly one software container runs, the old one or the
 * committed new one, and an update that was cut short resumes.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyArtifact } from '../../protocol/artifact.ts';
import {
  APP_LABELS,
  appHealthSchema,
  imageReferenceSchema,
  UPDATER_STATE_FILE,
  updaterStateSchema,
  type AppHealth,
  type UpdaterState,
} from '../../protocol/container-update.ts';
import type { DeploymentOffer, StatusReport } from '../../protocol/ota-cloud.ts';
import { writeJsonAtomic } from '../edge-agent/store/atomic-file.ts';
import { containersLabelled, docker, DockerCommandError, hasImage, inspectContainer } from './docker-cli.ts';

/** How an updater runs. */
export interface UpdaterOptions {
  /** The robot's id at the cloud. */
  robotId: string;
  /** Base URL of the fleet cloud's API. */
  cloudUrl: string;
  /** The robot's disk: the state file and downloads live here. */
  stateDir: string;
  /** Container names start with it (`<prefix>-app-<n>`); it is also the containers' app-of label. */
  device: string;
  /** The image to run when there is no state file yet (the factory image). */
  initialImage: string;
  /** Ed25519 public keys (PEM) whose artifacts it installs. */
  publicKeys: string[];
  /** The robot's model, as artifacts must list it. Default fd-amr-1. */
  model?: string;
  /** More labels for every container it makes (the harness's run labels). */
  labels?: Record<string, string>;
  /** Between polls of the cloud. Default 500 ms. */
  pollMs?: number;
  /** A health check whose output has not changed for this long has stalled. Default 20 s. */
  healthStallMs?: number;
  /** How long a pull may keep failing for want of a registry. Default 10 min. */
  pullGiveUpMs?: number;
  log?: (line: string) => void;
}

type Settings = Required<UpdaterOptions>;

/** Why an update did not go in; the message goes to the cloud. */
class UpdateFailed extends Error {}

export class ContainerUpdater {
  #state!: UpdaterState;
  #stopped = false;
  readonly #o: Settings;

  constructor(options: UpdaterOptions) {
    this.#o = {
      model: 'fd-amr-1',
      pollMs: 500,
      healthStallMs: 20_000,
      pullGiveUpMs: 600_000,
      labels: {},
      log: (line) => void process.stderr.write(`${line}\n`),
      ...options,
    };
  }

  get #statePath(): string {
    return join(this.#o.stateDir, UPDATER_STATE_FILE);
  }

  #labels(image: string): string[] {
    const labels = { ...this.#o.labels, [APP_LABELS.robot]: this.#o.device, [APP_LABELS.image]: image };
    return Object.entries(labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]);
  }

  #save(): void {
    writeJsonAtomic(this.#statePath, this.#state);
  }

  /** Power-on: reads the state file and brings the containers in line with it. */
  async reconcile(): Promise<void> {
    await mkdir(this.#o.stateDir, { recursive: true });
    let raw: string | undefined;
    try {
      raw = await readFile(this.#statePath, 'utf8');
    } catch {
      raw = undefined;
    }
    if (raw === undefined) {
      this.#state = {
        format: 1,
        robotId: this.#o.robotId,
        current: { image: this.#o.initialImage, name: `${this.#o.device}-app-0` },
      };
      this.#save();
    } else {
      const parsed = updaterStateSchema.safeParse(JSON.parse(raw));
      if (!parsed.success)
        throw new Error(`${this.#statePath}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
      this.#state = parsed.data;
    }
    const pending = this.#state.pending;
    if (pending?.phase === 'committing') {
      // The new software passed its health check before the cut; the cut killed it, so it must
      // pass again before the old one goes.
      await this.#ensureRunning(pending.next.name, pending.next.image);
      const failure = await this.#waitHealthy(pending.next.name);
      if (failure === undefined) {
        await this.#commit();
        return;
      }
      this.#state.pending = { ...pending, phase: 'rolling-back' };
      this.#save();
      await this.#finishRollback(
        `${pending.next.image} ${failure} after a power cut; rolled back to ${this.#state.current.image}`,
      );
      return;
    }
    if (pending?.phase === 'rolling-back') {
      await this.#finishRollback('rolled back after a power cut during the rollback');
      return;
    }
    // Pulling, swapping or idle: the old software is the one to run; anything else goes.
    await this.#removeAllBut(this.#state.current.name);
    await this.#ensureRunning(this.#state.current.name, this.#state.current.image);
    if (pending) {
      this.#state.pending = { ...pending, phase: 'pulling', resumes: pending.resumes + 1 };
      this.#save();
      this.#o.log(`updater: resuming deployment ${pending.deploymentId} (was ${pending.phase})`);
    }
  }

  /** Polls the cloud and applies what it offers, until stopped. */
  async run(): Promise<void> {
    while (!this.#stopped) {
      try {
        if (this.#state.pending) await this.#resume();
        else await this.#pollOnce();
      } catch (error) {
        this.#o.log(`updater: ${(error as Error).message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, this.#o.pollMs));
    }
  }

  stop(): void {
    this.#stopped = true;
  }

  async #pollOnce(): Promise<void> {
    const response = await fetch(
      new URL(`/v1/robots/${encodeURIComponent(this.#o.robotId)}/deployment`, this.#o.cloudUrl),
      {
        signal: AbortSignal.timeout(10_000),
      },
    );
    if (response.status === 204) return;
    if (response.status !== 200) throw new Error(`GET deployment: HTTP ${response.status}`);
    const offer = (await response.json()) as DeploymentOffer;
    const last = this.#state.last;
    if (last?.deploymentId === offer.deploymentId) {
      // The cloud did not get the end of it: say it again.
      await this.#finalReport(offer.deploymentId, last.status, last.message);
      return;
    }
    let image: string;
    try {
      image = await this.#download(offer);
    } catch (error) {
      await this.#report(offer.deploymentId, { state: 'Download' });
      await this.#finish(offer.deploymentId, 'failure', (error as Error).message);
      return;
    }
    if (image === this.#state.current.image) {
      await this.#report(offer.deploymentId, { state: 'already-installed' });
      return;
    }
    await this.#report(offer.deploymentId, { state: 'Download' });
    const n = Number(/-app-(\d+)$/.exec(this.#state.current.name)?.[1] ?? 0) + 1;
    this.#state.pending = {
      deploymentId: offer.deploymentId,
      phase: 'pulling',
      next: { image, name: `${this.#o.device}-app-${n}` },
      resumes: 0,
    };
    this.#save();
    await this.#resume();
  }

  /** Downloads and verifies the artifact; returns the image it names. */
  async #download(offer: DeploymentOffer): Promise<string> {
    const response = await fetch(new URL(offer.artifact.url, this.#o.cloudUrl), {
      headers: { 'x-robot-id': this.#o.robotId },
      signal: AbortSignal.timeout(60_000),
    });
    if (response.status !== 200) throw new Error(`GET ${offer.artifact.url}: HTTP ${response.status}`);
    const path = join(this.#o.stateDir, 'artifact.download');
    await writeFile(path, Buffer.from(await response.arrayBuffer()));
    try {
      const verified = await verifyArtifact(path, { publicKeys: this.#o.publicKeys, model: this.#o.model });
      const bytes = (await readFile(path)).subarray(
        verified.payloadOffset,
        verified.payloadOffset + verified.payloadSize,
      );
      const parsed = imageReferenceSchema.safeParse(JSON.parse(bytes.toString('utf8')));
      if (!parsed.success)
        throw new Error(
          `artifact ${offer.artifact.name} ${offer.artifact.version} is not an image reference`,
        );
      return parsed.data.image;
    } finally {
      await rm(path, { force: true });
    }
  }

  /** Takes the pending update from its phase (pulling, or swapping on a resume) to its end. */
  async #resume(): Promise<void> {
    const pending = this.#state.pending!;
    try {
      await this.#pull(pending.next.image);
    } catch (error) {
      this.#state.pending = undefined;
      await this.#finish(pending.deploymentId, 'failure', (error as Error).message);
      return;
    }
    this.#state.pending = { ...pending, phase: 'swapping' };
    this.#save();
    await this.#report(pending.deploymentId, { state: 'ArtifactInstall' });
    await docker(['stop', '--time', '10', this.#state.current.name]).catch((error: unknown) =>
      this.#o.log(`updater: stopping ${this.#state.current.name}: ${(error as Error).message}`),
    );
    await docker(['rm', '--force', pending.next.name]).catch(() => undefined);
    const failure = await docker([
      'run',
      '--detach',
      '--network',
      'none',
      '--name',
      pending.next.name,
      ...this.#labels(pending.next.image),
      pending.next.image,
      '--id',
      this.#o.robotId,
    ])
      .then(() => this.#waitHealthy(pending.next.name))
      .catch((error: unknown) => `cannot start ${pending.next.image}: ${(error as Error).message}`);
    if (failure === undefined) {
      this.#state.pending = { ...pending, phase: 'committing' };
      this.#save();
      await this.#commit();
      return;
    }
    this.#state.pending = { ...pending, phase: 'rolling-back' };
    this.#save();
    await this.#report(pending.deploymentId, { state: 'ArtifactRollback' });
    await this.#finishRollback(
      `${pending.next.image} ${failure}; rolled back to ${this.#state.current.image}`,
    );
  }

  async #commit(): Promise<void> {
    const pending = this.#state.pending!;
    // The terminal report is the commit's: {state: ArtifactCommit, status: success}.
    await docker(['rm', '--force', this.#state.current.name]).catch(() => undefined);
    this.#state.current = pending.next;
    this.#state.pending = undefined;
    await this.#finish(pending.deploymentId, 'success', `running ${pending.next.image}`);
  }

  async #finishRollback(message: string): Promise<void> {
    const pending = this.#state.pending!;
    await docker(['rm', '--force', pending.next.name]).catch(() => undefined);
    await this.#ensureRunning(this.#state.current.name, this.#state.current.image);
    const back = await this.#waitHealthy(this.#state.current.name);
    if (back !== undefined) this.#o.log(`updater: the old software after the rollback: ${back}`);
    this.#state.pending = undefined;
    await this.#finish(pending.deploymentId, 'failure', message);
  }

  /** Records the end in the state file, then tells the cloud. */
  async #finish(deploymentId: string, status: 'success' | 'failure', message: string): Promise<void> {
    this.#state.last = { deploymentId, status, message };
    this.#save();
    this.#o.log(`updater: deployment ${deploymentId}: ${status}: ${message}`);
    await this.#finalReport(deploymentId, status, message);
  }

  async #finalReport(deploymentId: string, status: 'success' | 'failure', message: string): Promise<void> {
    const state = status === 'success' ? 'ArtifactCommit' : 'ArtifactFailure';
    await this.#report(deploymentId, { state, status, message: message.slice(0, 4000) });
  }

  /** `docker pull`, again and again while the registry cannot be reached; a missing image fails at once. */
  async #pull(image: string): Promise<void> {
    const giveUpAt = Date.now() + this.#o.pullGiveUpMs;
    let waitMs = 500;
    for (;;) {
      try {
        await docker(['pull', '--quiet', image], this.#o.pullGiveUpMs);
        return;
      } catch (error) {
        const stderr = error instanceof DockerCommandError ? error.stderr : (error as Error).message;
        if (/manifest unknown|not found|name unknown|does not exist/i.test(stderr)) {
          throw new UpdateFailed(
            `image ${image} is not in the registry (${stderr.trim().split('\n').at(-1)})`,
          );
        }
        if (Date.now() > giveUpAt) throw new UpdateFailed(`cannot pull ${image}: ${stderr.trim()}`);
        this.#o.log(
          `updater: pull of ${image} failed, retrying in ${waitMs} ms: ${stderr.trim().split('\n').at(-1)}`,
        );
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        waitMs = Math.min(waitMs * 2, 4_000);
      }
    }
  }

  /**
   * Waits for the container's Docker health check: undefined once healthy, else why not. The
   * deadline follows the software's boot: it runs out only when the check's answer has not
   * changed for healthStallMs. A `failed` answer or an exit ends the wait at once.
   */
  async #waitHealthy(name: string): Promise<string | undefined> {
    let lastOutput: string | undefined;
    let progressAt = Date.now();
    for (;;) {
      const view = await inspectContainer(name);
      if (!view) return 'vanished while starting';
      if (!view.running) {
        const logs = await docker(['logs', '--tail', '3', name]).catch(() => '');
        return `exited with code ${view.exitCode} on start${logs.trim() ? ` (${logs.trim().split('\n').join(' / ')})` : ''}`;
      }
      if (view.health === undefined) return 'has no HEALTHCHECK: cannot tell whether it works';
      if (view.health === 'healthy') return undefined;
      if (view.health === 'unhealthy') return `failed its health check: ${view.healthOutput ?? ''}`;
      const answer = parseHealth(view.healthOutput);
      if (answer?.status === 'failed') return `failed its health check: ${answer.failures.join('; ')}`;
      if (view.healthOutput !== lastOutput) {
        lastOutput = view.healthOutput;
        progressAt = Date.now();
      }
      if (Date.now() - progressAt > this.#o.healthStallMs) {
        return `health check stalled for ${this.#o.healthStallMs} ms at: ${lastOutput ?? 'no answer'}`;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async #ensureRunning(name: string, image: string): Promise<void> {
    const view = await inspectContainer(name);
    if (view?.running) return;
    if (view) {
      await docker(['start', name]);
      return;
    }
    if (!(await hasImage(image))) await this.#pull(image);
    await docker([
      'run',
      '--detach',
      '--network',
      'none',
      '--name',
      name,
      ...this.#labels(image),
      image,
      '--id',
      this.#o.robotId,
    ]);
  }

  async #removeAllBut(keep: string): Promise<void> {
    for (const name of await containersLabelled({ [APP_LABELS.robot]: this.#o.device })) {
      if (name !== keep) await docker(['rm', '--force', name]);
    }
  }

  /** Reports one state; a lost report is retried a few times, then logged. */
  async #report(deploymentId: string, report: StatusReport): Promise<void> {
    const path = `/v1/robots/${encodeURIComponent(this.#o.robotId)}/deployments/${encodeURIComponent(deploymentId)}/status`;
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await fetch(new URL(path, this.#o.cloudUrl), {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(report),
          signal: AbortSignal.timeout(10_000),
        });
        await response.body?.cancel();
        if (response.status === 200) return;
        throw new Error(`HTTP ${response.status}`);
      } catch (error) {
        if (attempt >= 5) {
          this.#o.log(
            `updater: reporting ${report.state} for ${deploymentId} failed: ${(error as Error).message}`,
          );
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 300 * attempt));
      }
    }
  }
}

/** The software's own answer in a health check's output, if it gave one. */
function parseHealth(output: string | undefined): AppHealth | undefined {
  if (!output) return undefined;
  try {
    const parsed = appHealthSchema.safeParse(JSON.parse(output.split('\n')[0] ?? ''));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
