import { defineConfig } from '@playwright/test';

// A nested Playwright run used by the hygiene tests: one drill, a line reporter, no report files.
export default defineConfig({
  testDir: '.',
  testMatch: /drill\.spec\.ts$/,
  outputDir: process.env.HYGIENE_OUT ?? 'test-results',
  timeout: Number(process.env.HYGIENE_TIMEOUT_MS ?? 30_000),
  reporter: [['line']],
  workers: 1,
  // HYGIENE_BACKEND=docker runs the same drill on containers (harness/fleet/docker/hygiene.test.ts).
  // HYGIENE_VPN=1 puts both robots behind a NAT on a WireGuard tunnel (harness/fleet/vpn-hygiene.test.ts).
  use: {
    robots: 2,
    backend: process.env.HYGIENE_BACKEND ?? 'embedded',
    ...(process.env.HYGIENE_VPN ? { vpn: true } : {}),
  } as object,
});
