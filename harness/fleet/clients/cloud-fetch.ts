/**
 * `fetch` as the harness's clients of the cloud use it: plain, or over mutual TLS as the fleet's
 * operator when the cloud runs with TLS. The cloud's certificate is checked against the run's CA
 * and its name (CLOUD_SERVER_NAME), whatever address the harness dials.
 */
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import { CLOUD_SERVER_NAME, type IssuedIdentity } from '../../../reference/fleet-pki/index.ts';

export type CloudFetch = (url: string, init?: RequestInit) => Promise<Response>;

/** Plain `fetch` without an identity; with one, mutual TLS as it. */
export function cloudFetch(identity: IssuedIdentity | undefined): CloudFetch {
  if (!identity) return (url, init) => fetch(url, init);
  const dispatcher = new Agent({ connect: tlsOptions(identity) });
  return async (url, init) => await undiciFetch(url, { ...(init as object), dispatcher });
}

/** Node TLS options for a client of the cloud as `identity` (MQTT clients take them too). */
export function tlsOptions(identity: IssuedIdentity) {
  return {
    ca: identity.caPem,
    cert: identity.certPem,
    key: identity.keyPem,
    servername: CLOUD_SERVER_NAME,
    checkServerIdentity: (_host: string, cert: PeerCertificate) =>
      checkServerIdentity(CLOUD_SERVER_NAME, cert),
  };
}
