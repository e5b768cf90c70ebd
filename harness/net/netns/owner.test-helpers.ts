import { spawn, type ChildProcess } from 'node:child_process';
import { basename } from 'node:path';

/** A child process that owns namespaces (a `*.child.ts`), started and past its first line. */
export interface StartedOwner<T> {
  child: ChildProcess;
  /** Its exit code, or the signal that ended it. */
  exited: Promise<number | string>;
  /** Its first stdout line, parsed: what it built, printed once it is up. */
  first: T;
}

/**
 * Runs `script` (through tsx) with `args` and waits for its first stdout line. If it ends first,
 * the error names the script, its first argument, how it ended, `upWhat` and its stderr.
 */
export async function startOwnerChild<T>(
  script: string,
  args: readonly string[],
  upWhat: string,
): Promise<StartedOwner<T>> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    void exited.then((how) =>
      reject(new Error(`${basename(script)} ${args[0]} ended (${how}) before ${upWhat}: ${err}`)),
    );
  });
  return { child, exited, first: JSON.parse(line) as T };
}
