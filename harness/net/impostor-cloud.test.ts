/*
 * The rogue-cloud drill's witnesses: the impostor counts a robot that checks certificates as
 * handshakes only, and records every request of one that does not; a redirected link leads new
 * connections to the impostor and, restored, home again.
 */
import { expect } from '@playwright/test';
import { request } from 'node:https';
import { connect } from 'node:net';
import { CertificateAuthority } from '../../reference/fleet-pki/index.ts';
import { startImpostorCloud } from './impostor-cloud.ts';
import { netTest as test } from './test-fixtures.ts';

function get(address: string, path: string, options: { ca?: string; trustAnyone?: boolean }) {
  const [host, port] = address.split(':');
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      {
        host,
        port: Number(port),
        path,
        servername: 'fleet-cloud',
        ca: options.ca,
        rejectUnauthorized: !options.trustAnyone,
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.once('error', reject);
    req.end();
  });
}

test('a client that trusts anyone is offered an update and recorded; one that trusts only the fleet CA is counted as a handshake', async () => {
  await using impostor = await startImpostorCloud();
  const trusting = await get(impostor.address, '/v1/robots/r01/deployment', { trustAnyone: true });
  expect(trusting.status).toBe(200);
  expect(JSON.parse(trusting.body)).toMatchObject({ artifact: { version: '66.6.6' } });
  expect(impostor.requests).toEqual(['GET /v1/robots/r01/deployment']);

  const fleetCa = await CertificateAuthority.create('the fleet');
  await expect(get(impostor.address, '/health', { ca: fleetCa.certPem })).rejects.toThrow();
  expect(impostor.connections).toBe(2);
  expect(impostor.requests, 'the careful client sent nothing').toHaveLength(1);
});

test('a redirected link leads new connections elsewhere and, restored, home again', async ({
  echo,
  network,
  events,
}) => {
  await using impostor = await startImpostorCloud();
  const link = await network.addLink('r01', 'cloud', echo.address);
  const open = () =>
    new Promise<void>((resolve, reject) => {
      const [host, port] = link.listen.split(':');
      const socket = connect(Number(port), host, () => {
        // Through the proxy the upstream connection is made once data flows; one byte will do.
        socket.write('x', () => setTimeout(() => (socket.destroy(), resolve()), 200));
      });
      socket.once('error', reject);
    });

  await link.redirect(impostor.address, 'drill');
  await open();
  expect(impostor.connections).toBe(1);
  expect(echo.sockets).toHaveLength(0);
  expect(link.target).toBe(impostor.address);

  await network.clear('r01', { reason: 'claimed' });
  await open();
  expect(echo.sockets).toHaveLength(1);
  expect(impostor.connections).toBe(1);
  expect(events.since(0).map((event) => event.kind)).toEqual(
    expect.arrayContaining(['link-redirected', 'link-restored']),
  );
});
