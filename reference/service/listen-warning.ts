import { nonLoopbackWarning } from '../../protocol/listen-address.ts';

/**
 * Says on stderr, once at start, that `what` of this process listens beyond loopback: the
 * `--host` flag asked for it, and whoever reads the console should know (protocol/listen-address.ts).
 */
export function warnUnlessLoopback(who: string, what: string, host: string): void {
  const warning = nonLoopbackWarning(who, what, host);
  if (warning) process.stderr.write(`${warning}\n`);
}
