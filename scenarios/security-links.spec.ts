/*
 * The links between robots and their cloud under attack (issue 18): a rogue cloud on the radio
 * path, and a robot presenting another robot's certificate. The fleet runs with mutual TLS, as
 * every reference fleet does; the fault layer still carries the links, TLS passing through it as
 * bytes.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, fetch as tlsFetch } from 'undici';
import { checkTelemetry, expect, startImpostorCloud, test, withDetail } from '../harness/index.ts';

test.use({ robots: 2 });

test.describe('security: the cloud link', { tag: ['@security', '@nightly', '@release'] }, () => {
  test('a rogue cloud on the radio path gets handshakes and not one request; the robot resumes with its cloud, losing nothing', async ({
    fleet,
    claim,
    backend,
  }) => {
    test.skip(backend !== 'embedded', 'the impostor listens on this machine, which containers do not reach');
    test.setTimeout(120_000);
    expect(fleet.cloud.tls, 'the fleet runs with mutual TLS').toBe(true);
    const robot = await claim.one();
    await robot.agent.waitUntilReady();
    const link = fleet.network.link(robot.id, 'cloud');
    const versionBefore = await robot.version();

    await using impostor = await startImpostorCloud();
    await link.redirect(impostor.address, 'rogue cloud on the radio path');
    // Metrics go every second and the OTA client polls every second: within a few seconds the
    // agent has tried the impostor several times, each one a new connection.
    await expect
      .poll(() => impostor.connections, { timeout: 20_000, message: 'the agent tried the impostor' })
      .toBeGreaterThanOrEqual(3);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(impostor.requests, 'requests the impostor received (it offers an update to anyone)').toEqual([]);
    await link.restore('link restored');

    // Back with its cloud: everything the robot measured meanwhile arrives, once, in order.
    await checkTelemetry(fleet, [robot.id], { drainTimeoutMs: 60_000 });
    const events = await fleet.cloud.api.records(robot.id, { tier: 'events' });
    const refused = events.filter((record) => record.name === 'cloud-refused');
    expect(refused.length, 'the agent reported the refused cloud to its real one').toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(refused[0]!.data)).toMatch(/certificate/i);
    expect(await robot.version(), 'installed nothing from the impostor').toEqual(versionBefore);
    test.info().annotations.push({
      type: 'kpi',
      description: `impostor_connections=${impostor.connections} impostor_requests=${impostor.requests.length}`,
    });
  });

  test("a robot presenting r02's certificate can neither write r01's telemetry nor report r01's deployment", async ({
    fleet,
    claim,
  }) => {
    const [r01, r02] = await claim.some(2);
    await r01!.agent.waitUntilReady();
    // What a thief of r02's disk holds: its certificate and key, and the fleet CA.
    const identity = join(r02!.diskPath, 'identity');
    const [ca, cert, key] = await Promise.all(
      ['ca.pem', 'cert.pem', 'key.pem'].map((file) => readFile(join(identity, file), 'utf8')),
    );
    const stolen = new Agent({ connect: { ca, cert, key, servername: 'fleet-cloud' } });
    // Through r02's own radio link, as the thief's robot would send it.
    const base = `https://${fleet.network.link(r02!.id, 'cloud').listen}`;
    const before = await fleet.cloud.api.records(r01!.id);
    try {
      const forged = [
        await tlsFetch(`${base}/v1/telemetry`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            robotId: r01!.id,
            records: [
              { bootId: 'b999', seq: 1, tier: 'events', name: 'forged', capturedAt: Date.now(), data: {} },
            ],
          }),
          dispatcher: stolen,
        }),
        await tlsFetch(`${base}/v1/robots/${r01!.id}/deployments/any/status`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ state: 'success' }),
          dispatcher: stolen,
        }),
      ];
      const answers = await Promise.all(
        forged.map(async (response) => ({ status: response.status, body: await response.text() })),
      );
      for (const answer of answers) {
        expect(answer.status, withDetail('the cloud answered', answer.body)).toBe(403);
        expect(answer.body).toContain(`robot ${r02!.id}'s certificate may not act for robot ${r01!.id}`);
      }
    } finally {
      await stolen.close();
    }
    const after = await fleet.cloud.api.records(r01!.id);
    expect(
      after.filter((record) => record.bootId === 'b999'),
      'forged records stored for r01',
    ).toEqual([]);
    expect(after.length).toBeGreaterThanOrEqual(before.length);
    const stats = await fleet.cloud.api.stats();
    expect(JSON.stringify(stats.recentRejections)).toContain(`may not act for robot ${r01!.id}`);
  });
});
