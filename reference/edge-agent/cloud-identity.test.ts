/*
 * The agent's mutual TLS against real TLS servers: its cloud, an impostor with a certificate of
 * another CA, and its cloud again while the robot's clock says 1970.
 */
import { expect, test } from '@playwright/test';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateAuthority, writeIdentity } from '../fleet-pki/index.ts';
import { startFleetCloud } from '../fleet-cloud/index.ts';
import { clockProblem, cloudIdentity } from './cloud-identity.ts';

test('the agent talks to its cloud, refuses an impostor before sending it a byte, and trusts no certificate while its clock says 1970', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetdrill-identity-'));
  const ca = await CertificateAuthority.create('identity-test');
  const cloudId = await ca.issue({ kind: 'cloud', name: 'fleet-cloud' });
  await writeIdentity(join(dir, 'identity'), await ca.issue({ kind: 'robot', name: 'r01' }));
  const cloud = await startFleetCloud({
    dataDir: join(dir, 'cloud'),
    tls: { ca: ca.certPem, cert: cloudId.certPem, key: cloudId.keyPem },
  });
  // The impostor: the same name, a certificate of another CA; it counts what reaches it.
  const rogue = await (
    await CertificateAuthority.create('impostor')
  ).issue({ kind: 'cloud', name: 'fleet-cloud' });
  let rogueRequests = 0;
  const impostor = createServer({ cert: rogue.certPem, key: rogue.keyPem }, (_req, res) => {
    rogueRequests++;
    res.end('{}');
  });
  await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
  const impostorUrl = `https://127.0.0.1:${(impostor.address() as AddressInfo).port}`;
  try {
    const refusals: string[] = [];
    const robot = cloudIdentity(
      join(dir, 'identity'),
      () => Date.now(),
      (reason) => refusals.push(reason),
    );
    const health = (base: string) => robot.fetch(`${base}/health`);

    expect((await health(cloud.httpUrl)).status).toBe(200);

    await expect(health(impostorUrl)).rejects.toThrow();
    await expect(health(impostorUrl)).rejects.toThrow();
    expect(rogueRequests, 'requests the impostor received').toBe(0);
    expect(refusals, 'said once, however often it happens').toHaveLength(1);
    expect(refusals[0]).toMatch(/self-signed|unable to verify|SELF_SIGNED|UNABLE_TO_VERIFY/i);

    // A robot without an RTC battery boots with its clock at 0: a new process, new connections.
    let rtc = 0;
    const early: string[] = [];
    const booted = cloudIdentity(
      join(dir, 'identity'),
      () => rtc,
      (reason) => early.push(reason),
    );
    await expect(booted.fetch(`${cloud.httpUrl}/health`)).rejects.toThrow();
    expect(early[0]).toMatch(
      /the cloud's certificate is not valid until .*; the robot's clock says 1970-01-01T00:00:00.000Z/,
    );
    rtc = Date.now(); // time came (NTP)
    expect((await booted.fetch(`${cloud.httpUrl}/health`)).status).toBe(200);
  } finally {
    await new Promise<void>((resolve) => impostor.close(() => resolve()));
    await cloud.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a certificate is judged by the robot clock: before, inside and after its validity', () => {
  const cert = { valid_from: 'Jan  1 00:00:00 2026 GMT', valid_to: 'Jan  1 00:00:00 2027 GMT' };
  expect(clockProblem(cert, Date.parse('2026-06-01T00:00:00Z'))).toBeUndefined();
  expect(clockProblem(cert, 0)).toContain('not valid until 2026-01-01T00:00:00.000Z');
  expect(clockProblem(cert, Date.parse('2027-06-01T00:00:00Z'))).toContain(
    'expired at 2027-01-01T00:00:00.000Z',
  );
});
