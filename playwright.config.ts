import { createRequire } from 'node:module';
import os from 'node:os';
import { defineConfig } from '@playwright/test';
import type { FleetWorkerOptions } from './harness/index.ts';
import { loadConfig } from './harness/core/config.ts';
import { runSeed } from './harness/core/seed.ts';
import { plantedSecret } from './harness/core/secrets.ts';
import { ALLURE_CATEGORIES } from './harness/report/allure-categories.ts';
import { separateUnitTestsFromDrills } from './harness/report/allure-suites.ts';
import { redactStdio } from './harness/report/redacted-output.ts';
import { withPlantedSecretScan } from './harness/testing/planted-secret/projects.ts';

// Loaded by the runner first, then by every worker: the seed chosen here travels to the workers
// through the environment, so the whole run shares one seed.
const config = loadConfig();
const seed = config.seed ?? runSeed();
// Minted the same way: one secret per run, searched for in its reports when it ends (docs/security.md).
plantedSecret();
// Every worker loads this file too, after Playwright has taken over its stdout and stderr to send
// them to the reports: from here on, what any test prints reaches them redacted.
if (process.env.TEST_WORKER_INDEX !== undefined) redactStdio();
const version = (createRequire(import.meta.url)('./package.json') as { version: string }).version;

export default defineConfig<object, FleetWorkerOptions>({
  outputDir: 'reports/test-results',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  forbidOnly: Boolean(process.env.CI),
  workers: process.env.FLEETDRILL_WORKERS ? Number(process.env.FLEETDRILL_WORKERS) : 2,
  globalSetup: './harness/report/global-setup.ts',
  reporter: [
    // First: redacts each result in place before the reporters below read it (docs/security.md).
    ['./harness/report/redacting-reporter.ts'],
    [process.env.CI ? 'line' : 'list'],
    // `fleetdrill qualify` runs each shard into a directory of its own: these three say where.
    ['json', { outputFile: process.env.FLEETDRILL_RESULTS_JSON ?? 'reports/results.json' }],
    ...(process.env.FLEETDRILL_BLOB_DIR
      ? [['blob', { outputDir: process.env.FLEETDRILL_BLOB_DIR }] as ['blob', { outputDir: string }]]
      : []),
    [
      'allure-playwright',
      {
        resultsDir: process.env.FLEETDRILL_ALLURE_RESULTS ?? 'reports/allure-results',
        // The run as a whole; what each drill's fleet ran with is a parameter of that drill.
        environmentInfo: {
          seed: String(seed),
          fleetdrill: version,
          node: process.version,
          os: `${os.type()} ${os.release()} (${os.cpus().length} cores)`,
        },
        categories: ALLURE_CATEGORIES,
        listeners: [separateUnitTestsFromDrills],
      },
    ],
    // Last: searches the reports the others wrote for the run's planted secret.
    ['./harness/testing/planted-secret/reporter.ts'],
  ],
  use: {
    robots: config.fleet.robots,
    seed,
    world: config.fleet.world,
    rtf: config.fleet.rtf,
    backend: config.fleet.backend,
    robotImage: config.fleet.robotImage ?? '',
    telemetry: config.fleet.telemetry,
    vpn: config.fleet.vpn ?? false,
  },
  projects: withPlantedSecretScan([
    // The project's own tests: unit tests beside the code.
    { name: 'unit', testDir: '.', testMatch: /^(?!.*node_modules).*\.test\.ts$/ },
    // The drills tagged @smoke: part of `npm test`.
    { name: 'smoke', testDir: 'scenarios', grep: /@smoke/ },
    // The telemetry drills (edge agent, fleet cloud, oracles): part of `npm test` too.
    { name: 'telemetry', testDir: 'scenarios', grep: /@telemetry/, grepInvert: /@smoke/ },
    // The OTA drills (A/B slots, the OTA client, deployments): part of `npm test` too.
    // Container-image updates are @ota too, but run on the docker backend only (project docker).
    {
      name: 'ota',
      testDir: 'scenarios',
      grep: /@ota(?![\w-])/,
      grepInvert: /@smoke|@telemetry|@container-ota/,
    },
    // The hardware-in-the-loop stage (@hil): the perception model against its latency budget, on
    // HIL_TARGET (default: ONNX Runtime here). Part of `npm test`; it needs no fleet.
    { name: 'hil', testDir: 'scenarios', grep: /@hil/ },
    // The QoS drills (@qos): topic QoS over rosbridge on the embedded fleet, and real DDS between
    // network namespaces (the reduced matrix). Part of `npm test`; the full matrix (@qos-matrix)
    // runs in the nightly.
    {
      name: 'qos',
      testDir: 'scenarios',
      grep: /@qos(?![\w-])/,
      grepInvert: /@smoke|@telemetry|@ota(?![\w-])/,
    },
    // The security drills (@security): hostile-input fuzzing and the link drills. Part of `npm test`.
    {
      name: 'security',
      testDir: 'scenarios',
      grep: /@security/,
      grepInvert: /@smoke|@telemetry|@ota(?![\w-])|@qos(?![\w-])/,
    },
    // The VPN drills (@vpn): robots behind a NAT reach the cloud through a real WireGuard tunnel
    // (docs/vpn.md). Needs root and wireguard-go; skips saying why without them.
    { name: 'vpn', testDir: 'scenarios', grep: /@vpn/, use: { backend: 'embedded' } },
    // Every drill on the embedded fleet: `fleetdrill run` and the nightly suite select with tags.
    { name: 'embedded', testDir: 'scenarios', use: { backend: 'embedded' } },
    // On containers (Docker): the @smoke drills and those tagged @docker, a subset of the
    // telemetry and OTA drills. Part of CI, which installs and starts a Docker engine.
    { name: 'docker', testDir: 'scenarios', grep: /@smoke|@docker/, use: { backend: 'docker' } },
    // Every drill on containers: `fleetdrill run --backend docker`.
    { name: 'docker-all', testDir: 'scenarios', use: { backend: 'docker' } },
  ]),
});
