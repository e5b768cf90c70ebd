/**
 * The Docker engine as the updater uses it: the docker CLI, as a device's update agent would,
 * pointed at DOCKER_HOST when set. Every call has a deadline.
 */
import { execFile } from 'node:child_process';

/** A docker command failed; `stderr` is what the CLI said. */
export class DockerCommandError extends Error {
  override name = 'DockerCommandError';
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
    readonly code: number | string | null,
  ) {
    super(
      `docker ${args.slice(0, 3).join(' ')}: ${stderr.trim().split('\n').slice(-2).join(' / ') || `exit ${code}`}`,
    );
  }
}

/** Runs `docker <args>` and returns its stdout. */
export function docker(args: readonly string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('docker', args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const code = (error as NodeJS.ErrnoException).code ?? (error as { status?: number }).status ?? null;
      reject(new DockerCommandError(args, `${stderr}${error.killed ? ' (timed out)' : ''}`, code));
    });
  });
}

/** What `docker inspect` says of a container that matters to an update. */
export interface ContainerView {
  name: string;
  running: boolean;
  exitCode: number;
  /** `starting`, `healthy`, `unhealthy`; undefined when the image has no HEALTHCHECK. */
  health?: string;
  /** The newest health check's output. */
  healthOutput?: string;
}

interface InspectedContainer {
  Name: string;
  State: {
    Running: boolean;
    ExitCode: number;
    Health?: { Status: string; Log?: Array<{ Output: string }> | null };
  };
}

/** The container, or undefined when there is none of that name. */
export async function inspectContainer(name: string): Promise<ContainerView | undefined> {
  let text: string;
  try {
    text = await docker(['container', 'inspect', name], 15_000);
  } catch (error) {
    if (error instanceof DockerCommandError && /no such (container|object)/i.test(error.stderr))
      return undefined;
    throw error;
  }
  const info = (JSON.parse(text) as InspectedContainer[])[0];
  if (!info) return undefined;
  const log = info.State.Health?.Log ?? [];
  return {
    name: info.Name.replace(/^\//, ''),
    running: info.State.Running,
    exitCode: info.State.ExitCode,
    health: info.State.Health?.Status,
    healthOutput: log.at(-1)?.Output.trim(),
  };
}

/** Names of every container (running or not) carrying all of `labels`. */
export async function containersLabelled(labels: Readonly<Record<string, string>>): Promise<string[]> {
  const filters = Object.entries(labels).flatMap(([key, value]) => ['--filter', `label=${key}=${value}`]);
  const out = await docker(['ps', '--all', '--format', '{{.Names}}', ...filters], 15_000);
  return out.split('\n').filter(Boolean);
}

/** True when the engine holds the image. */
export async function hasImage(image: string): Promise<boolean> {
  try {
    await docker(['image', 'inspect', '--format', '{{.Id}}', image], 15_000);
    return true;
  } catch {
    return false;
  }
}
