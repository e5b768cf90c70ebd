/** The SSH target: parsing `ssh://user@host[:port]` and finding the key to log in with. */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { HilError } from '../types.ts';

/** Where an `ssh://user@host[:port]` target points. */
export interface SshTarget {
  user: string;
  host: string;
  port: number;
}

const TARGET =
  /^ssh:\/\/([A-Za-z0-9_][A-Za-z0-9._-]*)@(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?\/?$/;

/** Parses `ssh://user@host[:port]` strictly: no password, path, query or fragment. */
export function parseSshTarget(target: string): SshTarget {
  const match = TARGET.exec(target);
  if (!match) throw new HilError(`stage '${target}': expected ssh://user@host[:port]`);
  const [, user, host, port] = match as unknown as [string, string, string, string | undefined];
  const portNumber = port === undefined ? 22 : Number(port);
  if (!(portNumber >= 1 && portNumber <= 65535)) {
    throw new HilError(`stage '${target}': port ${port} is outside 1..65535`);
  }
  return { user, host: host.replace(/^\[(.*)\]$/, '$1'), port: portNumber };
}

/** The private key to authenticate with: the one given, else the first default key present. */
export function privateKeyPath(stage: string, given: string | undefined): string {
  if (given !== undefined) return given;
  const candidates = ['id_ed25519', 'id_rsa'].map((name) => join(os.homedir(), '.ssh', name));
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new HilError(`${stage}: no private key (tried ${candidates.join(', ')}; set privateKey)`);
  return found;
}
