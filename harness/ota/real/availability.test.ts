/**
 * Whether the real-client drills can run: asked as another uid, on this machine's own loop driver
 * and tools. Only the uid is supposed; nothing of the clients is.
 */
import { existsSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { missingTools } from '../../../reference/robot-host/index.ts';
import { REAL_CLIENT_TOOLS, realClientsAvailability } from './availability.ts';

test('as uid 65534 (nobody) the real clients are not available, and the reason names root and the uid', () => {
  const available = realClientsAvailability(65534);
  expect(available.ok).toBe(false);
  const reason = available.ok ? '' : available.reason;
  expect(reason).toContain('need root');
  expect(reason).toContain('uid 65534');
});

test('as root on the same machine, root is not what is missing: only the loop driver or the tools can be', () => {
  const available = realClientsAvailability(0);
  const missing = missingTools(Object.keys(REAL_CLIENT_TOOLS));
  if (existsSync('/dev/loop-control') && missing.length === 0) {
    expect(available).toEqual({ ok: true });
  } else {
    expect(available.ok).toBe(false);
    expect(available.ok ? '' : available.reason).not.toContain('root');
  }
});

test("by default it answers for this process's uid", () => {
  expect(realClientsAvailability()).toEqual(realClientsAvailability(process.getuid?.()));
  if (process.getuid?.() !== 0) expect(realClientsAvailability().ok).toBe(false);
});
