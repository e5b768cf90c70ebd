import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseEnvInfo, stringifyEnvInfo } from 'allure-js-commons/sdk/reporter';

/** The file of the Allure report's environment widget, in a results dir. */
export const ALLURE_ENVIRONMENT_FILE = 'environment.properties';

/**
 * Adds entries (the software under test, say) to the environment widget of a results dir, keeping
 * what is there: allure-playwright writes its `environmentInfo` when the run ends, replacing the
 * file, so this runs after the run and merges. An entry given here wins over one of the same key.
 * Returns the entries the file holds now.
 */
export async function writeAllureEnvironment(
  resultsDir: string,
  entries: Record<string, string>,
): Promise<Record<string, string>> {
  const path = join(resultsDir, ALLURE_ENVIRONMENT_FILE);
  const merged: Record<string, string> = {};
  for (const [key, value] of Object.entries(await readEnvironment(path))) {
    if (value !== undefined) merged[key] = value;
  }
  Object.assign(merged, entries);
  await mkdir(resultsDir, { recursive: true });
  await writeFile(path, `${stringifyEnvInfo(merged)}\n`);
  return merged;
}

async function readEnvironment(path: string): Promise<Record<string, string | undefined>> {
  try {
    return parseEnvInfo(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}
