import { defineConfig } from '@playwright/test';

// A nested Playwright run for the container-OTA hygiene test (../hygiene.test.ts): one drill.
export default defineConfig({
  testDir: '.',
  testMatch: /drill\.spec\.ts$/,
  outputDir: process.env.HYGIENE_OUT ?? 'test-results',
  timeout: 120_000,
  reporter: [['line']],
  workers: 1,
});
