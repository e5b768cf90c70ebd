import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../../core/errors.ts';
import { describeIssue, issuePath } from '../../../protocol/zod-issues.ts';

/**
 * Reading the qualification's YAML files (qualification.yaml, waivers) so that every error names
 * the file, the field path and the line it sits on: a release manager fixes the file, not the code.
 */

/** A parsed YAML file, able to say which line a field path came from. */
export interface YamlInput {
  /** The file as the user named it, for messages. */
  file: string;
  value: unknown;
  /** The 1-based line of the node at `path`, or of its nearest ancestor that exists. */
  lineOf(path: readonly PropertyKey[]): number | undefined;
}

/**
 * Deepest nesting a file may have. yaml's parser recurses once per level: a few thousand levels
 * exhaust the stack, and a later parse that exhausts it while V8 compiles a regular expression
 * kills the process (a fatal "RegExpCompiler Allocation failed"), so deep files are refused
 * before yaml sees them. Real qualification files nest about five levels.
 */
export const MAX_YAML_DEPTH = 256;

/** The line where `text` first nests deeper than MAX_YAML_DEPTH, by brackets or by indentation. */
function tooDeepAt(text: string): number | undefined {
  let flow = 0;
  let line = 1;
  let prefix = 0;
  let inPrefix = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      prefix = 0;
      inPrefix = true;
      continue;
    }
    // Each block level takes at least two columns of indentation or of `- ` / `? ` indicators.
    if (inPrefix && (c === ' ' || c === '\t' || c === '-' || c === '?')) {
      if (++prefix > 2 * MAX_YAML_DEPTH) return line;
      continue;
    }
    inPrefix = false;
    if (c === '[' || c === '{') {
      if (++flow > MAX_YAML_DEPTH) return line;
    } else if ((c === ']' || c === '}') && flow > 0) flow--;
  }
  return undefined;
}

/** Parses YAML text; a syntax error is a ConfigError naming the file and the line. */
export function parseYaml(text: string, file: string): YamlInput {
  const deepAt = tooDeepAt(text);
  if (deepAt !== undefined) {
    throw new ConfigError(
      `${file}:${deepAt}`,
      `is not valid YAML: nests deeper than ${MAX_YAML_DEPTH} levels`,
    );
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const line = syntax.linePos?.[0].line;
    // The first line of yaml's message is the sentence; the rest is a caret drawing.
    const why = syntax.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError(line === undefined ? file : `${file}:${line}`, `is not valid YAML: ${why}`);
  }
  return {
    file,
    value: doc.toJS(),
    lineOf(path) {
      for (let depth = path.length; depth >= 0; depth--) {
        const node: unknown = doc.getIn(path.slice(0, depth) as unknown[], true);
        const range = (node as { range?: [number, number, number] } | undefined)?.range;
        if (range) return lineCounter.linePos(range[0]).line;
      }
      return undefined;
    },
  };
}

/**
 * A failed zod parse as a ConfigError: `qualification.yaml: requirements[2].evidence[0].max must
 * be a number, got "ten" (line 14)`. `prefix` is where `schema` sat inside the file, when it
 * validated a part of it.
 */
export function issueError(
  input: YamlInput,
  error: z.ZodError,
  prefix: readonly PropertyKey[] = [],
): ConfigError {
  const issue = error.issues[0];
  const path = [...prefix, ...(issue?.path ?? [])];
  return fieldError(input, path, describe(issue));
}

/** A ConfigError about one field of the file, with its line when known. */
export function fieldError(input: YamlInput, path: readonly PropertyKey[], why: string): ConfigError {
  const line = input.lineOf(path);
  return new ConfigError(
    `${input.file}: ${issuePath(path)}`,
    line === undefined ? why : `${why} (line ${line})`,
  );
}

/**
 * The project's wording of an issue, except where a schema gave its own sentence (those start with
 * "must"), and with the offending value shown: a reader sees what the file said, not only what it
 * should say.
 */
function describe(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'is invalid';
  const input = 'input' in issue ? issue.input : undefined;
  if (issue.code === 'invalid_type' && input === undefined) return 'is required';
  const sentence = issue.message.startsWith('must ') ? issue.message : describeIssue(issue);
  if (input === undefined || issue.code === 'unrecognized_keys') return sentence;
  return `${sentence}, got ${shown(input)}`;
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
