/**
 * Searches what a run wrote for a secret it must not contain: the check behind "the planted
 * secret is found 0 times in reports/". It looks at bytes, not at a report format, so a new
 * report writer is searched the day it appears.
 */
import { readdir, readFile } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';

/** How the secret appeared in a file. */
export type SecretEncoding = 'plain' | 'base64' | 'hex' | 'url' | 'json';

/** One place a secret was found. */
export interface SecretOccurrence {
  /** Path of the file, relative to `base` when the scan was given one and the file is inside it. */
  file: string;
  /** 1-based line of the first byte of the occurrence. */
  line: number;
  encoding: SecretEncoding;
}

/** A form the secret may take in a file, as bytes to look for. */
export interface SecretForm {
  encoding: SecretEncoding;
  needle: Buffer;
}

/**
 * Every form the secret can take in a report: as written; base64 at each of the three byte
 * alignments it can start at inside a larger body (Playwright's JSON report carries attachments
 * that way); hex; percent-encoded and JSON-escaped when those differ from the text.
 */
export function secretForms(secret: string): SecretForm[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms: SecretForm[] = [{ encoding: 'plain', needle: bytes }];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    // Drop the characters that also carry bits of the bytes before the secret, and the last,
    // partial group, which carries bits of the bytes after it.
    const first = Math.ceil((offset * 8) / 6);
    const last = Math.floor((offset + bytes.length) / 3) * 4;
    const core = encoded.slice(first, last);
    forms.push({ encoding: 'base64', needle: Buffer.from(core) });
    const url = core.replace(/\+/g, '-').replace(/\//g, '_');
    if (url !== core) forms.push({ encoding: 'base64', needle: Buffer.from(url) });
  }
  forms.push({ encoding: 'hex', needle: Buffer.from(bytes.toString('hex')) });
  const url = encodeURIComponent(secret);
  if (url !== secret) forms.push({ encoding: 'url', needle: Buffer.from(url) });
  const json = JSON.stringify(secret).slice(1, -1);
  if (json !== secret) forms.push({ encoding: 'json', needle: Buffer.from(json) });
  return forms;
}

async function* filesUnder(root: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (error) {
    // A report directory this run did not write is nothing to search.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) yield* filesUnder(path);
    else if (entry.isFile()) yield path;
  }
}

function lineAt(content: Buffer, index: number): number {
  let line = 1;
  for (let at = content.indexOf(10); at !== -1 && at < index; at = content.indexOf(10, at + 1)) line++;
  return line;
}

/**
 * Every occurrence of `secret`, in any of its forms, in the files under `roots` (missing roots
 * are skipped). Compressed archives (zipped traces, blob reports) are searched as bytes only.
 */
/** A path relative to `base` when it lies inside it; absolute otherwise (`../../tmp/…` helps no one). */
function shown(path: string, base: string | undefined): string {
  if (!base) return path;
  const inside = relative(base, path);
  return inside.startsWith('..') || isAbsolute(inside) ? path : inside;
}

export async function scanForSecret(
  roots: readonly string[],
  secret: string,
  base?: string,
): Promise<SecretOccurrence[]> {
  const forms = secretForms(secret);
  const found: SecretOccurrence[] = [];
  const seen = new Set<string>();
  for (const root of roots) {
    for await (const path of filesUnder(root)) {
      // Roots may nest (reports/ and reports/allure-results): each file once.
      if (seen.has(path)) continue;
      seen.add(path);
      const content = await readFile(path);
      for (const { encoding, needle } of forms) {
        for (let at = content.indexOf(needle); at !== -1; at = content.indexOf(needle, at + 1)) {
          found.push({ file: shown(path, base), line: lineAt(content, at), encoding });
        }
      }
    }
  }
  return found;
}

/** One line per occurrence, `file:line (encoding)`, for a failure message. */
export function describeOccurrences(occurrences: readonly SecretOccurrence[]): string {
  return occurrences.map((o) => `${o.file}:${o.line} (${o.encoding})`).join('\n');
}
