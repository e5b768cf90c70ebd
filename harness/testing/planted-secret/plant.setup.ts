/**
 * Plants the run's secret (FLEETDRILL_PLANTED_SECRET, minted by playwright.config.ts and inherited
 * by every worker and robot process) where secrets flow in a drill, through the drill API's own
 * redaction: the drill's log, an environment dump, a cloud request with a bearer token, a fake
 * SSH key file of the kind the HIL stage reads, an annotation and a robot's log tail. The scan
 * that ends the run must find none of it in the reports.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '../../fixtures.ts';
import { PLANTED_SECRET_ENV, plantedSecret } from '../../core/secrets.ts';
import { withLogTail } from '../../fleet/host/index.ts';

test('the run plants its secret where secrets flow', async ({}, testInfo) => {
  const secret = plantedSecret();
  console.log(`a drill logs what it was handed: ${secret}`);
  console.error(`${PLANTED_SECRET_ENV}=${secret}`);
  await testInfo.attach('planted: robot environment', { body: `ROBOT_ID=r01\nMQTT_PASSWORD=${secret}\n` });
  await test.info().attach('planted: cloud request', {
    body: JSON.stringify({
      url: `https://127.0.0.1:8443/ota/artifact?robot=r01&token=${secret}`,
      headers: { authorization: `Bearer ${secret}` },
    }),
    contentType: 'application/json',
  });
  const dir = await mkdtemp(join(tmpdir(), 'fleetdrill-planted-'));
  try {
    // Shaped like ssh-keygen's output; the HIL stage reads such a file from HIL_KEY.
    const key = join(dir, 'id_ed25519');
    await writeFile(
      key,
      `-----BEGIN OPENSSH PRIVATE KEY-----\n${secret}\n-----END OPENSSH PRIVATE KEY-----\n`,
    );
    await testInfo.attach('planted: HIL ssh key', { path: key, contentType: 'text/plain' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  testInfo.annotations.push({ type: 'planted', description: `ssh://jetson:${secret}@10.0.0.7:22` });
  console.log(withLogTail('robot r01 exited during boot', 'r01', [`agent token ${secret}`]));

  // The attachments are redacted when made; the annotation when the test ends. The scan is the
  // end-to-end proof; this names the channel at once.
  for (const attachment of testInfo.attachments) {
    expect(attachment.body?.toString() ?? '', `attachment '${attachment.name}'`).not.toContain(secret);
  }
});
