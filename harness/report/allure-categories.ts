import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Status } from 'allure-js-commons';
import type { Category } from 'allure-js-commons/sdk';

/*
 * Allure matches a category's regexes against the whole message (Java's `String.matches`), and a
 * result lands in every category that matches, so each pattern is anchored by construction and
 * the product and harness patterns exclude each other by the error class the message starts with.
 * Playwright writes a thrown error's message as `${error.name}: ${error.message}`, and
 * fleetdrill's errors take their class name as `name`. `[\s\S]` rather than `.`: messages span
 * lines, and Java and JavaScript agree on it without flags.
 */

/** Error classes that mean "could not tell": the harness or the machine failed, not the product. */
export const HARNESS_ERROR_CLASSES = [
  'TimeoutError',
  'RobotUnreachableError',
  'ConfigError',
  'ClaimError',
  'CloudUnavailableError',
  'DockerUnavailableError',
  'ImageBuildError',
  'NetnsCommandError',
] as const;

/** Error classes that are a verdict on the system under test. */
export const PRODUCT_ERROR_CLASSES = ['GateFailedError', 'RobotDiedError', 'ProcessWarningError'] as const;

const startsWithClass = (names: readonly string[]): string => `(?:${names.join('|')}): [\\s\\S]*`;

/**
 * An oracle's verdict: a failed `expect` (Playwright names its error plain `Error`, the message
 * holds the matcher), a callback's `expect` that the ROS client kept for the test, a missed gate,
 * a robot that crashed during the drill, or a leak warning from the fleet's processes.
 */
const PRODUCT_MESSAGE = [
  'Error: [\\s\\S]*expect\\([\\s\\S]*',
  'CallbackError: [\\s\\S]*expect\\([\\s\\S]*',
  startsWithClass(PRODUCT_ERROR_CLASSES),
].join('|');

/**
 * The harness could not reach a verdict: a deadline reaching a robot, a robot or cloud that would
 * not start or answer, a bad config, a process that failed to spawn, or Playwright's own test
 * timeout (a drill bounds its oracles' waits, so running out of test time is not a verdict).
 */
const HARNESS_MESSAGE = [
  startsWithClass(HARNESS_ERROR_CLASSES),
  'Test timeout of \\d+ms exceeded[\\s\\S]*',
  'Error: spawn [\\s\\S]*',
  'Error: (?:listen |connect )?E(?:ADDRINUSE|CONNREFUSED|NOENT|AGAIN|MFILE)[\\s\\S]*',
  'Worker process exited unexpectedly[\\s\\S]*',
].join('|');

/**
 * The report's categories, in the order Allure shows them. A result no category matches falls to
 * Allure's defaults ("Product defects" for failed, "Test defects" for broken).
 */
export const ALLURE_CATEGORIES: readonly Category[] = [
  {
    name: 'Product failures',
    description: "An oracle's verdict on the system under test: the release is wrong here.",
    matchedStatuses: [Status.FAILED, Status.BROKEN],
    messageRegex: PRODUCT_MESSAGE,
  },
  {
    name: 'Harness and environment failures',
    description:
      'The harness could not tell: a timeout reaching a robot, a machine too busy, a process that ' +
      'failed to start. Not evidence against the release, and not a pass either.',
    matchedStatuses: [Status.FAILED, Status.BROKEN],
    messageRegex: HARNESS_MESSAGE,
  },
  {
    // A `test.fail()` drill that failed as declared: Allure reports it passed, with the error.
    name: 'Known gaps',
    description: 'Drills marked test.fail(): a known shortfall of the product, failing as expected.',
    matchedStatuses: [Status.PASSED],
    messageRegex: '[\\s\\S]+',
  },
];

/** Whether a category would take a result with this status and message, as Allure decides it. */
export function categoryMatches(
  category: Category,
  status: `${Status}`,
  message: string | undefined,
): boolean {
  if (category.matchedStatuses && !category.matchedStatuses.includes(status as Status)) return false;
  if (category.messageRegex === undefined) return true;
  if (message === undefined) return false;
  const source =
    typeof category.messageRegex === 'string' ? category.messageRegex : category.messageRegex.source;
  return new RegExp(`^(?:${source})$`).test(message);
}

/** Allure's file of category definitions, in a results dir. */
export const ALLURE_CATEGORIES_FILE = 'categories.json';

/**
 * Writes the categories into a results dir that no allure-playwright run wrote last, such as
 * shards' results merged into one directory; a run's own reporter writes them itself at its end.
 */
export async function writeAllureCategories(resultsDir: string): Promise<void> {
  await mkdir(resultsDir, { recursive: true });
  await writeFile(
    join(resultsDir, ALLURE_CATEGORIES_FILE),
    `${JSON.stringify(ALLURE_CATEGORIES, null, 2)}\n`,
  );
}
