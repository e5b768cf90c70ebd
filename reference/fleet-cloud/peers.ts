/**
 * Who may do what in the cloud, once links are mutual TLS. The TLS layer asks every client for a
 * certificate but lets the request through either way, so a refusal is an HTTP answer that says
 * why (401: no certificate, or one the CA did not sign or that has expired; 403: a good
 * certificate asking for something its party may not do) instead of a bare handshake alert.
 *
 * - An operator (the harness, a fleet engineer) may do anything.
 * - A robot may send its own telemetry and blackboxes, poll and report its own deployments, read
 *   artifacts, and ask for /health. Another robot's id anywhere in the request is refused.
 * - Without TLS (a cloud started without credentials) there is no identity: everyone may do
 *   anything, as before.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { partyOf } from '../fleet-pki/index.ts';
import { HttpError, type Peer } from './http-router.ts';

/** Routes a robot may use, by method and pattern; the rest are an operator's. */
const ROBOT_ROUTES = new Set([
  'POST /v1/telemetry',
  'HEAD /v1/blackbox/:robot/:boot/:file',
  'PUT /v1/blackbox/:robot/:boot/:file',
  'GET /v1/robots/:robot/deployment',
  'PUT /v1/robots/:robot/deployments/:deployment/status',
  'HEAD /v1/artifacts/:id',
  'GET /v1/artifacts/:id',
  'GET /health',
]);

/** What OpenSSL's verification codes mean to a robot's operator. */
const REASONS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'has expired',
  CERT_NOT_YET_VALID: 'is not valid yet',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'is not signed by the fleet CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'is not signed by the fleet CA',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'is self-signed, not signed by the fleet CA',
  SELF_SIGNED_CERT_IN_CHAIN: 'chains to a CA that is not the fleet CA',
  CERT_SIGNATURE_FAILURE: 'has a bad signature',
};

/** Each connection's verdict: its certificate does not change while it lasts. */
const verdicts = new WeakMap<TLSSocket, Peer | HttpError>();

/** The peer of a request on a TLS server; throws the 401 a bad certificate gets. */
export function peerOf(req: IncomingMessage): Peer {
  const socket = req.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function') return { kind: 'anyone' };
  let verdict = verdicts.get(socket);
  if (!verdict) {
    try {
      verdict = judgePeer(socket);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      verdict = error;
    }
    verdicts.set(socket, verdict);
  }
  if (verdict instanceof HttpError) throw verdict;
  return verdict;
}

function judgePeer(socket: TLSSocket): Peer {
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0)
    throw new HttpError(401, 'a client certificate signed by the fleet CA is required');
  if (!socket.authorized) {
    const code = String(socket.authorizationError ?? 'unknown');
    const name = typeof cert.subject?.CN === 'string' ? ` for ${cert.subject.CN}` : '';
    throw new HttpError(401, `client certificate${name} ${REASONS[code] ?? `was refused (${code})`}`);
  }
  const party = partyOf(cert);
  if ('problem' in party) throw new HttpError(401, `client certificate refused: ${party.problem}`);
  return party;
}

/**
 * Refuses (403) a request `peer` may not make: a route outside a robot's, or one naming another
 * robot in `robotId` (the path's `:robot`, or the robot a body names).
 */
export function authorize(peer: Peer, route: string | undefined, robotId?: string | null): void {
  if (peer.kind === 'anyone' || peer.kind === 'operator') return;
  if (peer.kind !== 'robot' || (route !== undefined && !ROBOT_ROUTES.has(route)))
    throw new HttpError(403, `${peer.kind} ${peer.name} may not ${route ?? 'do this'}`, {
      robotId: peer.kind === 'robot' ? peer.name : null,
    });
  if (robotId !== undefined && robotId !== null && robotId !== peer.name)
    throw new HttpError(403, `robot ${peer.name}'s certificate may not act for robot ${robotId}`, {
      robotId: peer.name,
    });
}
