import { defineConfig } from '@playwright/test';
import type { FleetWorkerOptions } from '../../harness/index.ts';

// The nested run behind `worker_restart_ms` (bench/worker-restart.ts): one worker, so the drill
// after the failure runs on the worker Playwright starts in place of the failed one. Everything
// else is the drill defaults the fixtures give, as for a drill run with no config file.
const robots = Number(process.env.RESTART_ROBOTS);
if (!Number.isInteger(robots) || robots < 1) {
  throw new TypeError(`RESTART_ROBOTS must be a whole number >= 1, got '${process.env.RESTART_ROBOTS}'`);
}

export default defineConfig<object, FleetWorkerOptions>({
  testDir: '.',
  testMatch: /restart\.spec\.ts$/,
  outputDir: process.env.RESTART_OUT ?? 'test-results',
  timeout: 180_000,
  reporter: [['line']],
  workers: 1,
  use: { robots, backend: 'embedded' },
});
