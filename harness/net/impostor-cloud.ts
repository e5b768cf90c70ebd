/**
 * A rogue cloud for drills: an HTTPS server with a certificate for the cloud's own name
 * (CLOUD_SERVER_NAME), signed by a CA of its own, as an attacker on the radio path has. It answers
 * every request as a willing cloud would — it offers an update to any robot that polls — and
 * counts what reaches it: TLS handshakes begun, and requests that got through them. A robot that
 * checks its cloud's certificate begins handshakes and sends no request.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CertificateAuthority, CLOUD_SERVER_NAME } from '../../reference/fleet-pki/index.ts';

export interface ImpostorCloud {
  /** `host:port` to lead a robot's cloud link to. */
  readonly address: string;
  /** TCP connections opened to it (each one a handshake begun). */
  readonly connections: number;
  /** `METHOD path` of every request that got through a handshake, in order. */
  readonly requests: readonly string[];
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts an impostor on `host` (loopback by default) and an ephemeral port. */
export async function startImpostorCloud(host = '127.0.0.1'): Promise<ImpostorCloud> {
  const ca = await CertificateAuthority.create('impostor');
  const identity = await ca.issue({ kind: 'cloud', name: CLOUD_SERVER_NAME });
  const requests: string[] = [];
  let connections = 0;
  const server: Server = createServer({ cert: identity.certPem, key: identity.keyPem }, (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    // Whatever a robot asks, the answer invites it to go on: an offer, or an acknowledgement.
    const offer = req.url?.endsWith('/deployment');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(
        offer
          ? {
              deploymentId: 'rogue',
              artifact: { id: 'rogue', version: '66.6.6', url: '/v1/artifacts/rogue' },
            }
          : { stored: 0, duplicates: 0 },
      ),
    );
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }));
  return {
    address: `${host}:${port}`,
    get connections() {
      return connections;
    },
    get requests() {
      return requests;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
