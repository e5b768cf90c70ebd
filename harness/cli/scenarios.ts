import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { REPO_ROOT } from '../core/paths.ts';

const require = createRequire(import.meta.url);
/** Playwright's own CLI, run with this Node: no npx, no PATH lookups. */
export const PLAYWRIGHT_CLI = join(require.resolve('@playwright/test/package.json'), '..', 'cli.js');
export const SCENARIO_DIR = join(REPO_ROOT, 'scenarios');

/** Scenario names: the file names in scenarios/ without `.spec.ts`. */
export function scenarioNames(): string[] {
  return readdirSync(SCENARIO_DIR)
    .filter((file) => file.endsWith('.spec.ts'))
    .map((file) => file.replace(/\.spec\.ts$/, ''))
    .sort();
}

/**
 * Turns `fleetdrill run` selectors into Playwright arguments: `@tag` selects by tag, anything
 * else must be a scenario name.
 */
export function selectionArgs(selectors: readonly string[]): string[] {
  const names = scenarioNames();
  const tags = selectors.filter((selector) => selector.startsWith('@'));
  const files: string[] = [];
  for (const selector of selectors.filter((s) => !s.startsWith('@'))) {
    const name = selector.replace(/\.spec\.ts$/, '').replace(/^scenarios\//, '');
    if (!names.includes(name)) {
      throw new ConfigError('scenario', `'${selector}' is unknown; scenarios: ${names.join(', ')}`);
    }
    files.push(`scenarios/${name}.spec.ts`);
  }
  const args = [...files];
  if (tags.length) args.push('--grep', tags.map((tag) => escapeRegExp(tag)).join('|'));
  return args;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Runs Playwright with these arguments in the repo; resolves with its exit code. */
export function runPlaywright(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PLAYWRIGHT_CLI, 'test', ...args], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
      env,
    });
    // Ctrl-C reaches Playwright directly (same process group); wait for it to clean up.
    const ignore = () => {};
    process.on('SIGINT', ignore);
    process.on('SIGTERM', forward);
    function forward() {
      child.kill('SIGTERM');
    }
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 128 + 2 : 1));
    });
  });
}

/** One listed test. */
export interface ListedTest {
  scenario: string;
  title: string;
  tags: string[];
}

/** Lists the drills in scenarios/ with their tags, as Playwright sees them. */
export async function listScenarios(): Promise<ListedTest[]> {
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [PLAYWRIGHT_CLI, 'test', '--list', '--reporter=json', '--project=embedded'],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(text) : reject(new Error(`playwright --list exited ${code}`)),
    );
  });
  const start = output.indexOf('{');
  const report = JSON.parse(output.slice(start)) as { suites: JsonSuite[] };
  const listed: ListedTest[] = [];
  const visit = (suite: JsonSuite, file: string, titles: string[]) => {
    for (const spec of suite.specs ?? []) {
      listed.push({
        scenario: basename(file).replace(/\.spec\.ts$/, ''),
        title: [...titles, spec.title].join(' › '),
        tags: [...new Set(spec.tags.map((tag) => `@${tag.replace(/^@/, '')}`))],
      });
    }
    for (const child of suite.suites ?? []) visit(child, file, [...titles, child.title]);
  };
  // Drills only: the planted-secret check that every project depends on is listed with them.
  for (const suite of report.suites) {
    const file = suite.file ?? suite.title;
    if (file.endsWith('.spec.ts')) visit(suite, file, []);
  }
  return listed;
}

interface JsonSuite {
  title: string;
  file?: string;
  specs?: Array<{ title: string; tags: string[] }>;
  suites?: JsonSuite[];
}
