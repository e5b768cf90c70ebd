/**
 * Where fleetdrill's servers listen. Every one binds loopback unless it is told otherwise: a test
 * robot's rosbridge, the fault layer's API and an ingest API that trusts robot ids must not be
 * reachable from the LAN by accident. Binding elsewhere is an explicit flag, and the process that
 * binds says so on stderr with {@link nonLoopbackWarning}. Both the harness and the reference
 * services follow this, so it lives here.
 */

import { isIP } from 'node:net';

/** The address a server binds when nobody says otherwise. */
export const LOOPBACK_ADDRESS = '127.0.0.1';

/**
 * Env var: `1` where the process's network namespace is private to the run (a fleet container on
 * the run's Docker network). There a server must listen on the namespace's own interface for the
 * run's other containers to reach it, and that is not the host's LAN: the host side is the
 * published port, which the harness binds on loopback. Set by the harness, never by an image.
 */
export const PRIVATE_NETNS_ENV = 'FLEETDRILL_PRIVATE_NETNS';

/** Whether a bind on `host` stays on this machine: 127.0.0.0/8, ::1, `localhost`, or IPv4-mapped loopback. */
export function isLoopbackAddress(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const lower = bare.toLowerCase();
  if (lower === 'localhost') return true;
  const mapped = lower.startsWith('::ffff:') ? lower.slice('::ffff:'.length) : lower;
  if (isIP(mapped) === 4) return mapped.split('.')[0] === '127';
  // Every spelling of ::1 (0:0:0:0:0:0:0:1, 0::1, ...): the groups before the last are all zero.
  if (isIP(lower) === 6) return /^(0{0,4}:){2,7}0{0,3}1$/.test(lower);
  return false;
}

/**
 * The warning a process prints when it binds `host`, or undefined when there is nothing to warn
 * about: a loopback address, or any address inside a namespace that is private to the run.
 * `who` names the process (`robot-host r01`), `what` the servers (`rosbridge`).
 */
export function nonLoopbackWarning(
  who: string,
  what: string,
  host: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (isLoopbackAddress(host) || env[PRIVATE_NETNS_ENV] === '1') return undefined;
  const where =
    host === '' || host === '0.0.0.0' || host === '::' ? `${host || '*'} (every interface)` : host;
  return (
    `${who}: warning: listening beyond loopback, as asked: ${what} on ${where}; ` +
    `other machines on this host's networks can reach it (without the address, it stays on ${LOOPBACK_ADDRESS})`
  );
}
