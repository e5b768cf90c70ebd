/*
 * The cloud over mutual TLS, with real certificates from a per-test fleet CA: who gets in, who
 * is refused and with what answer, and that honest robots lose nothing while others are refused.
 */
import { expect } from '@playwright/test';
import { connectAsync } from 'mqtt';
import { Agent, fetch as tlsFetch } from 'undici';
import { CertificateAuthority, type IssuedIdentity } from '../fleet-pki/index.ts';
import { records, test } from './test-helpers.ts';
import type { RecordsPage } from './index.ts';

interface Answer {
  status: number;
  body: { error?: string } & Record<string, unknown>;
}

/** A request as `who` (no certificate when undefined), trusting the fleet CA for the server. */
async function call(
  url: string,
  who: IssuedIdentity | undefined,
  ca: string,
  init: { method?: string; body?: unknown } = {},
): Promise<Answer> {
  const dispatcher = new Agent({
    connect: { ca, cert: who?.certPem, key: who?.keyPem, servername: 'fleet-cloud' },
  });
  try {
    const response = await tlsFetch(url, {
      method: init.method ?? 'GET',
      headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      dispatcher,
    });
    return { status: response.status, body: (await response.json()) as Answer['body'] };
  } finally {
    await dispatcher.close();
  }
}

async function fleetCa() {
  const ca = await CertificateAuthority.create('tls-test');
  const hour = 3600_000;
  return {
    ca,
    cloud: await ca.issue({ kind: 'cloud', name: 'fleet-cloud' }),
    r01: await ca.issue({ kind: 'robot', name: 'r01' }),
    r02: await ca.issue({ kind: 'robot', name: 'r02' }),
    operator: await ca.issue({ kind: 'operator', name: 'harness' }),
    expired: await ca.issue(
      { kind: 'robot', name: 'r01' },
      { notBefore: new Date(Date.now() - 48 * hour), notAfter: new Date(Date.now() - hour) },
    ),
    stranger: await (await CertificateAuthority.create('elsewhere')).issue({ kind: 'robot', name: 'r01' }),
  };
}

test('robots send their own telemetry; a missing, expired, foreign or wrong-robot certificate is refused with a clear status', async ({
  lab,
}) => {
  const pki = await fleetCa();
  const cloud = await lab.cloud({
    tls: { ca: pki.ca.certPem, cert: pki.cloud.certPem, key: pki.cloud.keyPem },
  });
  expect(cloud.httpUrl).toMatch(/^https:/);
  const ingest = `${cloud.httpUrl}/v1/telemetry`;
  const batch = (robotId: string, from: number) => ({ robotId, records: records(from, from + 4) });
  const ca = pki.ca.certPem;

  // The honest robot keeps sending while the others are refused.
  const honest = (async () => {
    const answers: number[] = [];
    for (let i = 0; i < 10; i++)
      answers.push(
        (await call(ingest, pki.r01, ca, { method: 'POST', body: batch('r01', i * 5 + 1) })).status,
      );
    return answers;
  })();

  const refusals = await Promise.all([
    call(ingest, undefined, ca, { method: 'POST', body: batch('r01', 100) }),
    call(ingest, pki.expired, ca, { method: 'POST', body: batch('r01', 100) }),
    call(ingest, pki.stranger, ca, { method: 'POST', body: batch('r01', 100) }),
    call(ingest, pki.r02, ca, { method: 'POST', body: batch('r01', 100) }),
    call(`${cloud.httpUrl}/v1/robots/r01/deployment`, pki.r02, ca),
    call(`${cloud.httpUrl}/v1/robots`, pki.r01, ca),
  ]);
  expect(refusals.map((a) => [a.status, a.body.error])).toEqual([
    [401, 'a client certificate signed by the fleet CA is required'],
    [401, 'client certificate for r01 has expired'],
    [
      401,
      expect.stringMatching(/^client certificate for r01 (is not signed by the fleet CA|is self-signed)/),
    ],
    [403, "robot r02's certificate may not act for robot r01"],
    [403, "robot r02's certificate may not act for robot r01"],
    [403, 'robot r01 may not GET /v1/robots'],
  ]);
  expect(await honest).toEqual(new Array(10).fill(200));

  // Exactly the honest robot's 50 records, none of the refused ones (seq 100 on).
  const page = await call(`${cloud.httpUrl}/v1/robots/r01/records`, pki.operator, ca);
  expect(page.status).toBe(200);
  const seqs = (page.body as unknown as RecordsPage).records.map((r) => r.seq);
  expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
});

test('over MQTT, a robot publishes only under its own id, and a client without a certificate is not let in', async ({
  lab,
}) => {
  const pki = await fleetCa();
  const cloud = await lab.cloud({
    tls: { ca: pki.ca.certPem, cert: pki.cloud.certPem, key: pki.cloud.keyPem },
  });
  expect(cloud.mqttUrl).toMatch(/^mqtts:/);
  const tls = (who: IssuedIdentity | undefined) => ({
    ca: pki.ca.certPem,
    cert: who?.certPem,
    key: who?.keyPem,
    servername: 'fleet-cloud',
    reconnectPeriod: 0,
    connectTimeout: 5_000,
  });

  await expect(connectAsync(cloud.mqttUrl, tls(undefined))).rejects.toThrow(/Not authorized/i);
  await expect(connectAsync(cloud.mqttUrl, tls(pki.stranger))).rejects.toThrow(/Not authorized/i);

  const r01 = await lab.mqtt(cloud.mqttUrl, tls(pki.r01));
  await r01.publishAsync('fleetdrill/r01/ingest', JSON.stringify({ records: records(1, 3) }), { qos: 1 });

  // r02 writing r01's telemetry: refused, and the broker drops it (MQTT 3.1.1 has no negative PUBACK).
  const r02 = await lab.mqtt(cloud.mqttUrl, tls(pki.r02));
  const dropped = new Promise<void>((resolve) => r02.once('close', () => resolve()));
  void r02
    .publishAsync('fleetdrill/r01/ingest', JSON.stringify({ records: records(10, 12) }), { qos: 1 })
    .catch(() => {});
  await dropped;

  const page = await call(`${cloud.httpUrl}/v1/robots/r01/records`, pki.operator, pki.ca.certPem);
  expect((page.body as unknown as RecordsPage).records.map((r) => r.seq)).toEqual([1, 2, 3]);
  const stats = await call(`${cloud.httpUrl}/v1/stats`, pki.operator, pki.ca.certPem);
  expect(JSON.stringify(stats.body)).toContain(
    'robot r02 may publish only under fleetdrill/r02/, not to fleetdrill/r01/ingest',
  );
});
