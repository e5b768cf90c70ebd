import { isDeepStrictEqual } from 'node:util';
import { OracleViolation } from './violation.ts';

/**
 * The status a server answered, judged against what its API documents: any 5xx, or a status the
 * documentation does not list, is a violation. Returns the status as the outcome to count.
 */
export function judgeStatus(status: number, documented: ReadonlySet<number>, request: string): string {
  if (status >= 500) throw new OracleViolation(`${request}: answered ${status}, a server error`);
  if (!documented.has(status)) {
    const listed = [...documented].sort((a, b) => a - b).join(', ');
    throw new OracleViolation(`${request}: answered ${status}, which the API does not document (${listed})`);
  }
  return String(status);
}

/** Where two values first differ, as a path (`records[3].data.x`) or a byte offset. */
function firstDifference(before: unknown, after: unknown, at: string): string | undefined {
  if (isDeepStrictEqual(before, after)) return undefined;
  if (Buffer.isBuffer(before) && Buffer.isBuffer(after)) {
    const length = Math.min(before.length, after.length);
    for (let i = 0; i < length; i++) if (before[i] !== after[i]) return `${at || 'bytes'} at byte ${i}`;
    return `${at || 'bytes'}: ${before.length} bytes before, ${after.length} after`;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    if (before.length !== after.length)
      return `${at || 'list'}: ${before.length} items before, ${after.length} after`;
    for (let i = 0; i < before.length; i++) {
      const found = firstDifference(before[i], after[i], `${at}[${i}]`);
      if (found) return found;
    }
  }
  if (before && after && typeof before === 'object' && typeof after === 'object') {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    for (const key of keys) {
      const found = firstDifference(
        (before as Record<string, unknown>)[key],
        (after as Record<string, unknown>)[key],
        at ? `${at}.${key}` : key,
      );
      if (found) return found;
    }
  }
  return `${at || 'value'}: ${JSON.stringify(before)?.slice(0, 120)} before, ${JSON.stringify(after)?.slice(0, 120)} after`;
}

/**
 * Stored data read back after fuzzing must equal what was stored before it, record for record
 * and byte for byte; the violation names the first place they differ.
 */
export function expectIntact(what: string, before: unknown, after: unknown): void {
  const difference = firstDifference(before, after, '');
  if (difference) throw new OracleViolation(`${what} changed under fuzzing: ${difference}`);
}

/** What a loader's refusal must look like. */
export interface LoaderErrorRules {
  /** What is being loaded, for messages: a file name, or `(in memory)`. */
  source: string;
  /** The message must contain one of these (the file's name, or the artifact's `name version`). */
  names: readonly string[];
  /** The loader's own error classes (ConfigError, WorldError, ...): anything else is a crash. */
  expected: ReadonlyArray<abstract new (...args: never[]) => Error>;
  /** The keys down to the field the input broke, when it broke one: the message must name one. */
  fields?: readonly string[];
}

/**
 * A loader's refusal, judged: it must be one of the loader's own errors, name what was loaded
 * (and the field broken, when known) and carry no stack trace in its message. Returns the
 * outcome to count.
 */
export function judgeLoaderError(error: unknown, rules: LoaderErrorRules): string {
  const where = rules.source;
  if (!(error instanceof Error))
    throw new OracleViolation(`${where}: the loader threw a non-error: ${String(error)}`);
  const kind = rules.expected.find((expected) => error instanceof expected);
  if (!kind) throw new OracleViolation(`${where}: the loader crashed with ${error.name}: ${error.message}`);
  if (rules.names.length && !rules.names.some((name) => error.message.includes(name))) {
    throw new OracleViolation(
      `${where}: the error does not say what it loaded (${rules.names.join(' or ')}): ${error.message}`,
    );
  }
  if (/\n\s+at /.test(error.message)) {
    throw new OracleViolation(`${where}: the error carries a stack trace: ${error.message.slice(0, 300)}`);
  }
  if (rules.fields?.length && !rules.fields.some((field) => error.message.includes(field))) {
    throw new OracleViolation(
      `${where}: the error names none of ${rules.fields.join('.')}, the field broken: ${error.message}`,
    );
  }
  return `refused (${error.name})`;
}
