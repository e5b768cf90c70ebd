// CI after `npm ci` (.ci/run does the apt installs and `npm ci`, which must run before Node and zx
// exist): a Docker engine, the images, typecheck, lint, `npm test` (the command the README gives)
// and, last of all, the summary line "N passed, N failed, N skipped" from .ci/summary.mjs.
//
// Exit code: the test run's own when it failed, else 1 when typecheck, lint or the summary failed,
// else 0. CI_TEST_ARGS (split on spaces) goes to Playwright after `npm test --`, to run a part of
// the suite, e.g. CI_TEST_ARGS=harness/cli/doctor.test.ts when trying this script out.
import { pathToFileURL } from 'node:url';
import { $, fs, sleep } from 'zx';

const DOCKERD_LOG = '/tmp/fleetdrill-ci-dockerd.log';
const RESULTS = 'reports/results.json';

/** Whether a Docker engine answers (the client alone is not enough). */
export async function engineAnswers() {
  const info = await $({ nothrow: true, quiet: true })`docker info`;
  return info.exitCode === 0;
}

/**
 * Starts a daemon with `command` (run through `exec`, so killing it stops the daemon itself) and
 * waits up to `waitS` seconds for `answers()`. Resolves with `{ up, stop }`: `stop` ends the
 * daemon and waits for it, whether or not it ever answered. zx's `exitCode` is a promise, so the
 * daemon's exit is tracked with a flag.
 */
export async function startDaemon(command, { answers, waitS = 60, log }) {
  const daemon = $({ nothrow: true, quiet: true })`exec ${command} >${log} 2>&1`;
  let exited = false;
  const done = daemon.then(() => {
    exited = true;
  });
  const stop = async () => {
    if (!exited) await daemon.kill('SIGTERM').catch(() => {});
    await done;
  };
  for (let i = 0; i < waitS * 4 && !exited; i++) {
    if (await answers()) return { up: true, stop };
    await sleep(250);
  }
  return { up: !exited && (await answers()), stop };
}

/**
 * Starts dockerd unless an engine answers, and waits up to `waitS` seconds for it. Returns a stop
 * function: it stops the engine only if this call started it.
 */
export async function startDockerEngine(waitS = 60) {
  if (await engineAnswers()) return async () => {};
  const { up, stop } = await startDaemon(['dockerd'], { answers: engineAnswers, waitS, log: DOCKERD_LOG });
  if (!up) {
    const log = await fs.readFile(DOCKERD_LOG, 'utf8').catch(() => '');
    console.log(log.trimEnd().split('\n').slice(-20).join('\n'));
    console.log('dockerd did not start; the docker drills will say why');
  }
  return stop;
}

/** Runs a command with its output on the CI log; resolves with its exit code, never throws. */
async function step(pieces, ...args) {
  const result = await $({ nothrow: true, stdio: 'inherit' })(pieces, ...args);
  return result.exitCode ?? 1;
}

/** The CI exit code from each step's: the test run's failure wins, then any other failure is 1. */
export function exitCode({ typecheck, lint, test, summary }) {
  if (test !== 0) return test;
  return typecheck !== 0 || lint !== 0 || summary !== 0 ? 1 : 0;
}

export async function main() {
  const stopEngine = await startDockerEngine();
  // A Ctrl-C or a CI timeout must not leave an engine this script started behind.
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => void stopEngine().finally(() => process.exit(130)));
  }
  const codes = {};
  try {
    // Build the images once, before the workers need them (no registry: on a local Node base).
    if ((await step`node bin/fleetdrill.js images`) !== 0) {
      console.log('image build failed; the docker drills will say why');
    }
    codes.typecheck = await step`npm run typecheck`;
    codes.lint = await step`npm run lint`;
    await fs.rm(RESULTS, { force: true });
    const extra = (process.env.CI_TEST_ARGS ?? '').split(' ').filter(Boolean);
    codes.test = await step`npm test ${extra.length > 0 ? ['--', ...extra] : []}`;
  } finally {
    await stopEngine();
  }
  // The summary's last line is the CI log's last line: nothing may print after it.
  codes.summary = await step`node .ci/summary.mjs ${RESULTS}`;
  return exitCode(codes);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main();
}
