/** Host key checks: OpenSSH fingerprints and known_hosts lookups, for the connection's verifier. */
import { createHash, createHmac } from 'node:crypto';

/** OpenSSH's fingerprint of a host key blob: `SHA256:` and unpadded base64. */
export function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Whether known_hosts lists `key` for the host. Reads plain patterns (with `*`, `?` and `!`
 * negation), `[host]:port` entries and hashed `|1|salt|hash` names; `@revoked` refuses the key,
 * `@cert-authority` lines are skipped (no certificates here).
 */
export function knownHostsVerdict(
  text: string,
  host: string,
  port: number,
  key: Buffer,
): 'listed' | 'revoked' | 'absent' {
  const name = port === 22 ? host : `[${host}]:${port}`;
  const blob = key.toString('base64');
  let listed = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    const marker = fields[0]!.startsWith('@') ? fields.shift() : undefined;
    const [hosts, , keyData] = fields;
    if (hosts === undefined || keyData !== blob || marker === '@cert-authority') continue;
    if (!hostMatches(hosts, name)) continue;
    if (marker === '@revoked') return 'revoked';
    listed = true;
  }
  return listed ? 'listed' : 'absent';
}

function hostMatches(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) {
    const [, , salt, hash] = patterns.split('|');
    if (salt === undefined || hash === undefined) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const pattern of patterns.split(',')) {
    const negated = pattern.startsWith('!');
    const body = negated ? pattern.slice(1) : pattern;
    const source = body
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    const regex = new RegExp(`^${source}$`, 'i');
    if (regex.test(name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}
