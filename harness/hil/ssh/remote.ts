/**
 * One SSH connection to the device and what runs over it: commands, background programs tracked by
 * pid files, SFTP transfers, and the helpers that quote commands and describe how they ended.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import createDebug from 'debug';
import ssh2 from 'ssh2';
import type { ClientChannel, SFTPWrapper } from 'ssh2';
import { runAll } from '../../core/errors.ts';
import { registerSecret } from '../../core/secrets.ts';
import { HilError } from '../types.ts';
import { fingerprintOf, knownHostsVerdict } from './host-key.ts';
import type { DEFAULTS, SshStageOptions } from './options.ts';
import { privateKeyPath, type SshTarget } from './target.ts';

const { Client, utils } = ssh2;
const log = createDebug('fleetdrill:hil:ssh');

/** What one remote command did. */
export interface ExecResult {
  code: number | null;
  signal: string | undefined;
  stdout: string;
  stderr: string;
}

/** A long-running remote command, stopped by the pid it wrote. */
interface Started {
  stop(): Promise<void>;
  /** How it ended when it ended before stop() was called (it should run until stopped). */
  readonly exitedEarly: ExecResult | undefined;
}

/**
 * One SSH connection to the device: commands, SFTP, and the pid files of whatever is still
 * running there, so that stopping the stage can end it.
 */
export class Remote {
  readonly #running = new Set<string>();
  #closed = false;
  #dir = '';

  private constructor(
    readonly stage: string,
    readonly hostKey: { fingerprint: string; check: string },
    private readonly client: InstanceType<typeof Client>,
    private readonly sftp: SFTPWrapper,
    private readonly commandTimeoutMs: number,
  ) {
    client.on('close', () => {
      this.#closed = true;
    });
  }

  /** The stage's directory on the device, `~` resolved. */
  get dir(): string {
    return this.#dir;
  }

  static async connect(
    stage: string,
    target: SshTarget,
    options: Pick<SshStageOptions, 'privateKey' | 'hostFingerprint' | 'knownHosts'> & typeof DEFAULTS,
  ): Promise<Remote> {
    const keyPath = privateKeyPath(stage, options.privateKey);
    const keyText = await readFile(keyPath).catch((error: NodeJS.ErrnoException) => {
      throw new HilError(`${stage}: cannot read private key ${keyPath}: ${error.code ?? error.message}`);
    });
    // Known by value from now on: whatever quotes it (a log, an error) reaches the report redacted.
    registerSecret(keyText.toString('utf8').trim(), 'private key');
    const parsed = utils.parseKey(keyText);
    if (parsed instanceof Error) throw new HilError(`${stage}: private key ${keyPath}: ${parsed.message}`);
    const knownHosts =
      options.knownHosts === undefined
        ? undefined
        : await readFile(options.knownHosts, 'utf8').catch((error: NodeJS.ErrnoException) => {
            throw new HilError(
              `${stage}: cannot read known_hosts ${options.knownHosts}: ${error.code ?? error.message}`,
            );
          });

    const hostKey = { fingerprint: '', check: '' };
    let refused: string | undefined;
    const verify = (key: Buffer): boolean => {
      hostKey.fingerprint = fingerprintOf(key);
      if (options.hostFingerprint !== undefined) {
        const wanted = options.hostFingerprint.replace(/=+$/, '');
        if (hostKey.fingerprint !== wanted) {
          refused = `host key ${hostKey.fingerprint} is not the expected ${wanted}`;
        }
        hostKey.check = 'matched the given fingerprint';
      } else if (knownHosts !== undefined) {
        const verdict = knownHostsVerdict(knownHosts, target.host, target.port, key);
        if (verdict !== 'listed') {
          const how = verdict === 'revoked' ? 'revoked' : 'not listed';
          refused = `host key ${hostKey.fingerprint} is ${how} in ${options.knownHosts}`;
        }
        hostKey.check = `listed in ${options.knownHosts}`;
      } else {
        hostKey.check = 'not verified: accepted and recorded (give hostFingerprint or knownHosts to check)';
      }
      return refused === undefined;
    };

    const client = new Client();
    // An 'error' with no listener would crash the process. Errors after 'ready' close the
    // connection, and the command or transfer in flight fails with what it was doing.
    client.on('error', (error) => log('%s: %s', stage, error.message));
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('error', (error: Error & { level?: string; code?: string }) => {
        client.end();
        let message: string;
        if (refused) message = `${stage}: ${refused}`;
        else if (error.level === 'client-authentication') {
          message = `${stage}: authentication failed (key ${keyPath})`;
        } else if (error.level === 'client-timeout') {
          message = `cannot reach ${stage}: ETIMEDOUT (no SSH handshake within ${options.connectTimeoutMs} ms)`;
        } else message = `cannot reach ${stage}: ${error.code ?? error.message}`;
        reject(new HilError(message, { cause: error }));
      });
      client.connect({
        host: target.host,
        port: target.port,
        username: target.user,
        privateKey: keyText,
        readyTimeout: options.connectTimeoutMs,
        hostVerifier: verify,
        // Key authentication only: no agent, no password, no keyboard-interactive.
        authHandler: ['publickey'],
      });
    });
    log('%s: connected, host key %s', stage, hostKey.fingerprint);

    try {
      const sftp = await new Promise<SFTPWrapper>((resolve, reject) =>
        client.sftp((error, sftp) =>
          error ? reject(new HilError(`${stage}: no SFTP: ${error.message}`)) : resolve(sftp),
        ),
      );
      const remote = new Remote(stage, hostKey, client, sftp, options.commandTimeoutMs);
      const home = (await remote.run(`printf '%s' "$HOME"`, 'read the remote home')).stdout;
      const dir = options.remoteDir.replace(/^~(?=\/|$)/, home).replace(/\/+$/, '');
      if (!dir.startsWith('/')) {
        throw new HilError(
          `${stage}: remoteDir '${options.remoteDir}' is not an absolute path on the device`,
        );
      }
      remote.#dir = dir;
      return remote;
    } catch (error) {
      client.end();
      throw error;
    }
  }

  /** Runs a POSIX sh script; resolves with its exit whatever it is. */
  exec(
    script: string,
    what: string,
    timeoutMs = this.commandTimeoutMs,
    pidFile?: string,
  ): Promise<ExecResult> {
    if (this.#closed) {
      return Promise.reject(new HilError(`${this.stage}: connection closed, cannot run ${what}`));
    }
    // With a pid file, the program runs as a child whose pid is written down (so it can be killed
    // by it) and the file goes away when the program ends, whichever way it ends.
    const body =
      pidFile === undefined
        ? script
        : `${script} & pid=$!; echo $pid > ${q(pidFile)}; wait $pid; code=$?; rm -f ${q(pidFile)}; exit $code`;
    if (pidFile !== undefined) this.#running.add(pidFile);
    return new Promise<ExecResult>((resolve, reject) => {
      this.client.exec(`/bin/sh -c ${q(body)}`, (error, channel) => {
        if (error) {
          if (pidFile !== undefined) this.#running.delete(pidFile);
          reject(new HilError(`${this.stage}: cannot run ${what}: ${error.message}`));
          return;
        }
        const timer = setTimeout(() => {
          channel.close();
          const stopped = pidFile === undefined ? Promise.resolve() : this.#kill(pidFile, what);
          void stopped.finally(() =>
            reject(new HilError(`${this.stage}: ${what} did not finish within ${timeoutMs} ms`)),
          );
        }, timeoutMs);
        collect(channel, (result) => {
          clearTimeout(timer);
          if (pidFile !== undefined) this.#running.delete(pidFile);
          resolve(result);
        });
      });
    });
  }

  /** Like exec, but a non-zero exit is a HilError naming what failed and what it said. */
  async run(script: string, what: string): Promise<ExecResult> {
    const result = await this.exec(script, what);
    if (result.code !== 0) {
      throw new HilError(`${this.stage}: cannot ${what} (${failure(result)})`);
    }
    return result;
  }

  /** Starts a program in the background on its own channel; stop() kills it by its pid file. */
  start(argv: readonly string[], pidFile: string, what: string): Started {
    let exited: ExecResult | undefined;
    let early: ExecResult | undefined;
    let stopping = false;
    const done = this.exec(command(argv[0]!, argv.slice(1)), what, 2 ** 31 - 1, pidFile).then(
      (result) => {
        exited = result;
        if (stopping) return;
        early = result;
        log('%s: %s ended before it was stopped: %o', this.stage, what, result);
      },
      (error: unknown) => {
        log('%s: %s: %s', this.stage, what, messageOf(error));
      },
    );
    return {
      stop: async () => {
        stopping = true;
        if (exited === undefined) await this.#kill(pidFile, what);
        // The channel closes once the process is gone; don't wait forever on a wedged one.
        await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
        this.#running.delete(pidFile);
      },
      get exitedEarly() {
        return early;
      },
    };
  }

  /** Kills what the pid file names, TERM then KILL. */
  async #kill(pidFile: string, what: string): Promise<void> {
    if (this.#closed) return;
    const script = [
      `f=${q(pidFile)}; i=0`,
      // The shell writes the pid first thing, but stop may come before it ran at all.
      'while [ ! -s "$f" ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done',
      '[ -s "$f" ] || exit 0',
      'pid=$(cat "$f")',
      'kill -TERM "$pid" 2>/dev/null || { rm -f "$f"; exit 0; }',
      'i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i+1)); done',
      'kill -KILL "$pid" 2>/dev/null',
      'rm -f "$f"',
    ].join('\n');
    await this.exec(script, `stop ${what}`, 15_000).catch((error: unknown) => {
      log('%s: stop %s: %s', this.stage, what, messageOf(error));
    });
  }

  /** Stops whatever this connection started and is still running. */
  async stopAll(): Promise<void> {
    await runAll([...this.#running].map((pidFile) => () => this.#kill(pidFile, basename(pidFile, '.pid'))));
    this.#running.clear();
  }

  /** Whether `path` is there with the size and SHA-256 given (false when sha256sum is missing). */
  async hasFile(path: string, size: number, sha256: string): Promise<boolean> {
    const result = await this.exec(
      `[ -f ${q(path)} ] && wc -c < ${q(path)} && sha256sum ${q(path)}`,
      'check the uploaded model',
    );
    if (result.code !== 0) return false;
    const [remoteSize, remoteHash] = result.stdout.trim().split(/\s+/);
    return Number(remoteSize) === size && remoteHash === sha256;
  }

  put(localPath: string, remotePath: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.sftp.fastPut(localPath, remotePath, (error) =>
        error
          ? reject(
              new HilError(`${this.stage}: upload of ${localPath} to ${remotePath} failed: ${error.message}`),
            )
          : resolve(),
      ),
    );
  }

  /** A remote file's text, or undefined when it is not there. */
  read(remotePath: string): Promise<string | undefined> {
    return new Promise((resolve, reject) =>
      this.sftp.readFile(remotePath, (error, data) => {
        if (!error) resolve(data.toString('utf8'));
        else if ((error as Error & { code?: unknown }).code === 2) resolve(undefined);
        else reject(new HilError(`${this.stage}: cannot fetch ${remotePath}: ${error.message}`));
      }),
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await new Promise<void>((resolve) => {
      this.client.once('close', () => resolve());
      this.sftp.end();
      this.client.end();
      setTimeout(resolve, 2000).unref();
    });
  }
}

function collect(channel: ClientChannel, done: (result: ExecResult) => void): void {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  let code: number | null = null;
  let signal: string | undefined;
  channel.on('data', (chunk: Buffer) => stdout.push(chunk));
  channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  channel.on('exit', (exitCode: number | null, exitSignal?: string) => {
    code = exitCode;
    signal = exitSignal;
  });
  channel.on('close', () =>
    done({
      code,
      signal,
      stdout: Buffer.concat(stdout).toString('utf8'),
      stderr: Buffer.concat(stderr).toString('utf8'),
    }),
  );
}

/** A POSIX shell word. */
export function q(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A program and its arguments as one shell command line, each word quoted. */
export function command(program: string, args: readonly string[]): string {
  return [program, ...args].map(q).join(' ');
}

/** How a command failed: `exit 1: <what it said>`, `exit 127 (not found)`, `signal TERM`. */
export function failure(result: ExecResult): string {
  const exit = result.code === null ? `signal ${result.signal}` : `exit ${result.code}`;
  const said = firstLines(result.stderr || result.stdout, 2);
  return `${exit}${result.code === 127 ? ' (not found)' : ''}${said ? `: ${said}` : ''}`;
}

/** The first non-blank lines, trimmed and joined on one line, to quote output in a message. */
export function firstLines(text: string, count: number): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .slice(0, count)
    .join(' | ');
}

/** The message of whatever was thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
