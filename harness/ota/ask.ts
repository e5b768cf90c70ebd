/**
 * Asking a robot something at the end of an OTA drill, the way an oracle may: a robot that reboots
 * itself while asked (its update went on, a watchdog rolled it back) drops the call, and a busy
 * machine answers late. So each try waits until the robot is up (its own boot progress: rosbridge
 * answers and /odom runs at rate) and only then starts its own short deadline; after a few tries the
 * answer is "no answer", which oracles report as "could not tell", never as wrong. The fuzz and the
 * drill-table runner share this one mechanism.
 */
import { RobotDiedError } from '../core/errors.ts';

/** What of a robot the asking needs: its id and its readiness wait (a `Robot` has both). */
export interface AskedRobot {
  readonly id: string;
  waitUntilReady(timeoutMs: number): Promise<void>;
}

/** Why a robot gave no answer. `died` when it died meanwhile: that is evidence, not a busy machine. */
export interface Unanswered {
  unanswered: string;
  died?: boolean;
}

/** What the robot said, or why it said nothing. */
export type Told<T> = { told: T } | Unanswered;

/** What the robot said it runs (/get_version), or why it said nothing. */
export type VersionAnswer = { version: string } | Unanswered;

export interface AskOptions {
  /** Tries, each once the robot is up again. Default 3. */
  tries?: number;
  /** Each try's deadline, counted from the moment the robot is up. Default 5 s. */
  askTimeoutMs?: number;
  /** How long the robot may go without progress while it gets up before a try (an idle window, see readiness.ts); past it, nobody can tell. Default 30 s. */
  readyTimeoutMs?: number;
}

const DEFAULTS = { tries: 3, askTimeoutMs: 5_000, readyTimeoutMs: 30_000 } satisfies Required<AskOptions>;

/**
 * Asks `what` (a name for messages, e.g. `/get_version`) with `ask`, which gets the try's deadline,
 * up to `tries` times, each once the robot is up. Resolves with the answer, or with why there was
 * none (`no answer from r01 /get_version after 3 tries while the robot was up: ...`); never throws.
 */
export async function askWhileUp<T>(
  robot: AskedRobot,
  what: string,
  ask: (timeoutMs: number) => Promise<T>,
  options: AskOptions = {},
): Promise<Told<T>> {
  const { tries, askTimeoutMs, readyTimeoutMs } = { ...DEFAULTS, ...options };
  const why: string[] = [];
  let asked = 0;
  const unanswered = (head: string, died = false): Unanswered => ({
    unanswered: `${head}${why.length ? `: ${why.join('; ')}` : ''}`,
    ...(died ? { died } : {}),
  });
  for (let attempt = 1; attempt <= tries; attempt++) {
    try {
      await robot.waitUntilReady(readyTimeoutMs);
    } catch (error) {
      if (error instanceof RobotDiedError)
        return unanswered(`${robot.id} died before it answered ${what}: ${error.message}`, true);
      why.push((error as Error).message);
      // Still powered but not up: slow or hung, and nobody can tell which from here (a hung boot
      // is its watchdog's to end, and a death is caught above); more tries would only wait longer.
      return unanswered(
        `no answer from ${robot.id} ${what} after ${asked} ${plural(asked)} while the robot was up, ` +
          `then it did not get up (idle window ${readyTimeoutMs} ms)`,
      );
    }
    asked++;
    try {
      return { told: await ask(askTimeoutMs) };
    } catch (error) {
      if (error instanceof RobotDiedError)
        return unanswered(`${robot.id} died before it answered ${what}: ${error.message}`, true);
      why.push((error as Error).message);
    }
  }
  return unanswered(
    `no answer from ${robot.id} ${what} after ${asked} ${plural(asked)} while the robot was up`,
  );
}

/** What the running software says it is, asked as {@link askWhileUp} asks. */
export async function askVersion(
  robot: AskedRobot & { version(timeoutMs: number): Promise<{ version: string }> },
  options: AskOptions = {},
): Promise<VersionAnswer> {
  const answer = await askWhileUp(
    robot,
    '/get_version',
    async (timeoutMs) => (await robot.version(timeoutMs)).version,
    options,
  );
  return 'told' in answer ? { version: answer.told } : answer;
}

/**
 * The version the robot reported, `could not tell (why)` when it gave no answer, or why it died:
 * what a drill prints and compares against the version it expects.
 */
export function describeVersionAnswer(answer: VersionAnswer): string {
  if ('version' in answer) return answer.version;
  return answer.died ? answer.unanswered : `could not tell (${answer.unanswered})`;
}

const plural = (n: number): string => (n === 1 ? 'try' : 'tries');
