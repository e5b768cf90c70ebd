import { ApiError } from './errors.ts';

/** A TCP address as Toxiproxy writes it: `host:port`, `[v6]:port` or `:port`. */
export interface Address {
  /** Empty means every interface, as Go's `net.Listen` reads it. */
  host: string;
  port: number;
}

/** Parses `host:port`; `field` names the JSON field in the error. */
export function parseAddress(value: string, field: string): Address {
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) {
    throw new ApiError(400, `${field} must be "host:port", got ${JSON.stringify(value)}`);
  }
  return { host: match[1] ?? match[2] ?? '', port };
}

/** Formats an address the way Toxiproxy echoes a bound listener. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
