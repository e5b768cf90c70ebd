import { isIPv4 } from 'node:net';
import { LOOPBACK_ADDRESS, nonLoopbackWarning } from '../../protocol/listen-address.ts';
import { ConfigError } from './errors.ts';

/** Env var: the address a run's servers listen on; `fleetdrill run --listen-address` sets it for the workers. */
export const LISTEN_ADDRESS_ENV = 'FLEETDRILL_LISTEN_ADDRESS';

/**
 * Checks a listen address from user input, naming the field. IPv4 only: the harness writes
 * `address:port` into proxy upstreams and robots' cloud URLs, where an IPv6 address would need
 * brackets that no Toxiproxy API takes.
 */
export function parseListenAddress(value: string, field: string): string {
  const trimmed = value.trim();
  if (!isIPv4(trimmed)) {
    throw new ConfigError(
      field,
      `must be an IPv4 address (${LOOPBACK_ADDRESS}, the default; 0.0.0.0 for every interface; or one of this machine's), got '${value}'`,
    );
  }
  return trimmed;
}

/** Where a client on this machine dials a server bound on `address`: a wildcard bind answers on loopback. */
export function dialAddress(address: string): string {
  return address === '0.0.0.0' ? LOOPBACK_ADDRESS : address;
}

/**
 * Prints, on stderr, that `what` listens on `address` when it is not loopback: the user asked for
 * it, and everyone reading the run's output must see that the LAN can reach it.
 */
export function warnListenAddress(what: string, address: string): void {
  const warning = nonLoopbackWarning('fleetdrill', what, address);
  if (warning) console.warn(warning);
}
