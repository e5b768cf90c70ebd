import { execFile, execFileSync } from 'node:child_process';
import { FleetdrillError } from '../../core/errors.ts';

/** An `ip`, `nft` or `tc` command failed; the message carries the command line and its stderr. */
export class NetnsCommandError extends FleetdrillError {
  constructor(
    readonly command: string,
    readonly stderr: string,
  ) {
    super(`'${command}' failed: ${stderr.trim() || 'no error output'}`);
  }
}

/** Runs a command (no shell), feeding `input` on stdin; resolves with stdout. */
export function sh(file: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { timeout: 15_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new NetnsCommandError([file, ...args].join(' '), stderr || error.message));
        else resolve(stdout);
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** The synchronous form, for process-exit cleanup where nothing asynchronous runs any more. */
export function shSync(file: string, args: readonly string[]): void {
  execFileSync(file, args, { stdio: 'ignore', timeout: 5_000 });
}

/** What the namespace link needs from the machine. */
export type NetnsPrivileges = { ok: true } | { ok: false; missing: string };

/** Whether `tool args` (a version query) runs: the tool is on PATH and starts. */
export function hasTool(tool: string, args: string[]): boolean {
  try {
    execFileSync(tool, args, { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether this process can build namespace links: root, and `ip`, `nft` and `tc` on PATH. For
 * test skips and `fleetdrill doctor`; the message names the first thing missing.
 */
export function netnsPrivileges(): NetnsPrivileges {
  if (process.platform !== 'linux') return { ok: false, missing: `Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, missing: 'root (network namespaces need CAP_NET_ADMIN)' };
  if (!hasTool('ip', ['-V'])) return { ok: false, missing: "the 'ip' command (iproute2)" };
  if (!hasTool('tc', ['-V'])) return { ok: false, missing: "the 'tc' command (iproute2)" };
  if (!hasTool('nft', ['--version'])) return { ok: false, missing: "the 'nft' command (nftables)" };
  return { ok: true };
}

let netemCache: boolean | undefined;

/**
 * Whether this kernel has the netem qdisc, tried for real on a namespace's loopback (many
 * container and CI kernels ship without sch_netem, and no module listing tells reliably).
 */
export async function kernelHasNetem(netns: string): Promise<boolean> {
  if (netemCache !== undefined) return netemCache;
  try {
    await sh('tc', ['-n', netns, 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms']);
    await sh('tc', ['-n', netns, 'qdisc', 'del', 'dev', 'lo', 'root']);
    netemCache = true;
  } catch (error) {
    // Only "unknown qdisc" means missing; any other failure is a real error to report.
    if (!(error instanceof NetnsCommandError && /unknown|No such file/i.test(error.stderr))) throw error;
    netemCache = false;
  }
  return netemCache;
}
