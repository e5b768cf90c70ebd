/**
 * The last look at a run's outputs: the JSON report is written when the run ends, after the scan
 * project, so this reporter (listed after it in playwright.config.ts) searches it and every other
 * report root for the planted secret and fails the run's exit status when it is there. The scan
 * project is the check CI counts; this one covers the files written after it.
 */
import type { FullResult, Reporter } from '@playwright/test/reporter';
import { REPO_ROOT } from '../../core/paths.ts';
import { PLANTED_SECRET_ENV } from '../../core/secrets.ts';
import { describeOccurrences, scanForSecret } from '../../report/secret-scan.ts';
import { reportRoots } from './projects.ts';

/** Where to look; the defaults are the run's environment and its report directories. */
export interface PlantedSecretReporterOptions {
  env?: NodeJS.ProcessEnv;
  roots?: string[];
}

export default class PlantedSecretReporter implements Reporter {
  constructor(private readonly options: PlantedSecretReporterOptions = {}) {}

  printsToStdio(): boolean {
    return false;
  }

  async onEnd(result: FullResult): Promise<{ status: FullResult['status'] } | undefined> {
    const env = this.options.env ?? process.env;
    const secret = env[PLANTED_SECRET_ENV];
    if (!secret) return undefined;
    const found = await scanForSecret(this.options.roots ?? reportRoots(env), secret, REPO_ROOT);
    if (found.length === 0) return undefined;
    console.error(
      `fleetdrill: ${PLANTED_SECRET_ENV} leaked into the run's reports:\n${describeOccurrences(found)}`,
    );
    return result.status === 'passed' ? { status: 'failed' } : undefined;
  }
}
