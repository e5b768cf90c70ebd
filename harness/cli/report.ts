import { spawn } from 'node:child_process';
import { cp, mkdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { REPO_ROOT } from '../core/paths.ts';

const require = createRequire(import.meta.url);

export const RESULTS_DIR = join(REPO_ROOT, 'reports', 'allure-results');
export const REPORT_DIR = join(REPO_ROOT, 'reports', 'allure-report');

/**
 * Generates the Allure report from the results of the last run. The previous report's history
 * is carried into the results first, so the report's trend charts span runs.
 */
export async function generateReport(
  options: { resultsDir?: string; reportDir?: string } = {},
): Promise<string> {
  const resultsDir = options.resultsDir ?? RESULTS_DIR;
  const reportDir = options.reportDir ?? REPORT_DIR;
  if (!(await exists(resultsDir))) {
    throw new Error(`no Allure results in ${resultsDir}: run some drills first (fleetdrill run)`);
  }
  const history = join(reportDir, 'history');
  if (await exists(history)) {
    await mkdir(join(resultsDir, 'history'), { recursive: true });
    await cp(history, join(resultsDir, 'history'), { recursive: true });
  }
  const allure = allureBinary();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(allure, ['generate', resultsDir, '-o', reportDir, '--clean'], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('error', (error) =>
      reject(new Error(`allure could not start (it needs Java 8+ on PATH): ${error.message}`)),
    );
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`allure generate exited with code ${code}`)),
    );
  });
  return reportDir;
}

/** The allure command line of allure-commandline (it needs Java 8+ on PATH). */
export function allureBinary(): string {
  return join(require.resolve('allure-commandline/package.json'), '..', 'bin', 'allure');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
