/**
 * The fleet cloud's OTA side as drills use it: upload artifacts, create deployments, watch them
 * until robots finish. Straight to the cloud's API, as an operator's tool would.
 */
import { readFile } from 'node:fs/promises';
import type {
  ArtifactDownloads,
  ArtifactInfo,
  CreateDeployment,
  DeploymentDetail,
  DeploymentRobot,
} from '../../../protocol/ota-cloud.ts';
import { FleetdrillError, TimeoutError } from '../../core/errors.ts';
import type { EventBus } from '../../core/events.ts';
import type { CloudFetch } from './cloud-fetch.ts';

/** The cloud's OTA API refused a call, or did not answer (`answered` false: no verdict at all). */
export class OtaApiError extends FleetdrillError {
  constructor(
    message: string,
    readonly answered = true,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A deployment to create; the cloud's defaults apply to what is left out. */
export type DeploymentRequest = Omit<CreateDeployment, 'name'> & { name?: string };

export class FleetOta {
  private deployments = 0;

  constructor(
    /** The cloud's HTTP API. */
    readonly url: string,
    private readonly events?: EventBus,
    private readonly send: CloudFetch = (url, init) => fetch(url, init),
    private readonly timeoutMs = 30_000,
  ) {}

  /** Uploads an artifact file (a path, or its bytes); the same bytes twice give the same id. */
  async upload(artifact: string | Uint8Array): Promise<ArtifactInfo> {
    const body = typeof artifact === 'string' ? await readFile(artifact) : artifact;
    const info = await this.call<ArtifactInfo>('POST', '/v1/artifacts', {
      body,
      headers: { 'content-type': 'application/octet-stream' },
    });
    this.events?.emit({
      kind: 'ota-artifact',
      id: info.id,
      name: info.name,
      version: info.version,
      size: info.size,
    });
    return info;
  }

  /** Creates a deployment and returns it as the cloud then holds it. */
  async deploy(request: DeploymentRequest): Promise<DeploymentDetail> {
    const name = request.name ?? `drill-${++this.deployments}`;
    const { id } = await this.call<{ id: string }>('POST', '/v1/deployments', {
      body: JSON.stringify({ ...request, name }),
      headers: { 'content-type': 'application/json' },
    });
    this.events?.emit({
      kind: 'ota-deployment',
      id,
      name,
      artifactId: request.artifactId,
      robots: request.robots.length,
    });
    return this.deployment(id);
  }

  deployment(id: string): Promise<DeploymentDetail> {
    return this.call('GET', `/v1/deployments/${encodeURIComponent(id)}`);
  }

  /** Requests and bytes the cloud served per robot for an artifact. */
  downloads(artifactId: string): Promise<ArtifactDownloads> {
    return this.call('GET', `/v1/artifacts/${encodeURIComponent(artifactId)}/downloads`);
  }

  /**
   * Polls until `done` holds for the deployment; resolves with it. On timeout the error says
   * where every robot stood. A poll the cloud did not answer (a busy machine) is tried again until
   * the deadline, not taken as the end; a refusal ends the wait at once.
   */
  async waitFor(
    id: string,
    done: (deployment: DeploymentDetail) => boolean,
    options: { timeoutMs?: number; what?: string } = {},
  ): Promise<DeploymentDetail> {
    const timeoutMs = options.timeoutMs ?? 120_000;
    const deadline = performance.now() + timeoutMs;
    let last: DeploymentDetail | undefined;
    let unanswered: OtaApiError | undefined;
    for (;;) {
      try {
        last = await this.deployment(id);
        unanswered = undefined;
        if (done(last)) return last;
      } catch (error) {
        if (!(error instanceof OtaApiError) || error.answered) throw error;
        unanswered = error;
      }
      if (performance.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const noAnswer = unanswered ? `; the last poll had no answer: ${unanswered.message}` : '';
    if (!last) {
      throw new TimeoutError(
        `deployment ${id}: the fleet cloud answered no poll within ${timeoutMs} ms${noAnswer}`,
        {
          cause: unanswered,
        },
      );
    }
    const where = last.robots.map((robot) => `${robot.robotId} ${describeRobot(robot)}`).join(', ');
    throw new TimeoutError(
      `deployment ${id} (${last.status}): ${options.what ?? 'not done'} within ${timeoutMs} ms; ${where}${noAnswer}`,
      { cause: unanswered },
    );
  }

  /** Waits until each of `robots` (default all of the deployment's) has a terminal status. */
  waitUntilFinished(
    id: string,
    options: { robots?: readonly string[]; timeoutMs?: number } = {},
  ): Promise<DeploymentDetail> {
    return this.waitFor(
      id,
      (deployment) =>
        deployment.robots
          .filter((robot) => !options.robots || options.robots.includes(robot.robotId))
          .every((robot) => robot.status !== null),
      { timeoutMs: options.timeoutMs, what: 'robots not finished' },
    );
  }

  private async call<T>(
    method: string,
    path: string,
    init: { body?: string | Uint8Array; headers?: Record<string, string> } = {},
  ): Promise<T> {
    let response: Response;
    try {
      response = await this.send(`${this.url}${path}`, {
        method,
        ...init,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new OtaApiError(
        `fleet cloud at ${this.url}: ${method} ${path} failed: ${(error as Error).message}`,
        false,
        { cause: error },
      );
    }
    const text = await response.text();
    if (!response.ok) {
      throw new OtaApiError(`fleet cloud: ${method} ${path} answered ${response.status}: ${text}`);
    }
    return JSON.parse(text) as T;
  }
}

/** The states a robot reported for a deployment, in order. */
export function reportedStates(robot: DeploymentRobot): string[] {
  return robot.history.map((entry) => entry.state);
}

function describeRobot(robot: DeploymentRobot): string {
  if (robot.status) return `${robot.status}`;
  if (robot.state) return `at ${robot.state}`;
  return robot.offeredAt === null ? 'not offered' : 'offered, no report';
}
