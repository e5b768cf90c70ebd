import type { z } from 'zod';

/**
 * How every validated file in fleetdrill (config, worlds, QoS contracts) words a zod issue, so a
 * user reads the same sentence shape whichever file they got wrong:
 * `fleet.robots must be a number`, `walls[3].to is required`, `topics./scan has unknown key "qso"`.
 * Parse with `{ reportInput: true }` so a missing key ("is required") can be told apart from a
 * value of the wrong type.
 */

/** A zod path as a reader writes it: `walls[3].to`; `(root)` for the document itself. */
export function issuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    out += typeof part === 'number' ? `[${part}]` : out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

/** What is wrong with the field an issue points at, as the rest of a sentence after its path. */
export function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'is invalid';
  switch (issue.code) {
    case 'invalid_type':
      // reportInput puts the offending value on the issue; a missing key has none.
      return issue.input === undefined
        ? 'is required'
        : `must be ${article(issue.expected)} ${issue.expected}`;
    case 'too_small':
      return issue.origin === 'string' && issue.minimum === 1
        ? 'must not be empty'
        : `must be ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}`;
    case 'too_big':
      return `must be ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `has unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    default:
      return issue.message;
  }
}

/** The first issue of a failed parse as `{ path, message }`, for an error that names the field. */
export function firstIssue(error: z.ZodError): { path: string; message: string } {
  const issue = error.issues[0];
  return { path: issue ? issuePath(issue.path) : '(root)', message: describeIssue(issue) };
}

function article(word: string): 'a' | 'an' {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}
