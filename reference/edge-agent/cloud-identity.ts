/**
 * The agent's side of mutual TLS with its cloud. With an https:// cloud, every request the agent
 * makes (telemetry, blackboxes, OTA polls, downloads and reports, the health check) presents the
 * robot's certificate and accepts only a cloud whose certificate the fleet CA signed for
 * CLOUD_SERVER_NAME, whatever address the radio link reaches it through (its proxy in the fault
 * layer). Validity is judged by the robot's own clock, as a real robot's TLS stack does: a robot
 * whose clock says 1970 cannot trust any certificate yet.
 *
 * A refused cloud is never talked to: the request fails before a byte of it is sent, and the
 * uploader and OTA client treat that as an unreachable cloud (retry, keep everything on disk).
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import { CLOUD_SERVER_NAME, identityFiles } from '../fleet-pki/index.ts';

/**
 * The robot's identity is the process's, as a robot's certificate is the machine's: requests that
 * bypass fetch (the OTA client's downloads, over node:https) take this agent. Undefined until
 * {@link useCloudIdentity}.
 */
let httpsAgent: HttpsAgent | undefined;

/** The node:https agent that presents the robot's certificate; undefined without TLS. */
export function cloudHttpsAgent(): HttpsAgent | undefined {
  return httpsAgent;
}

/**
 * Why the agent refused its cloud's certificate, once per reason per boot: `clock` when the
 * certificate is good but not by the robot's clock, `certificate` for any other refusal.
 */
export type RefusalListener = (reason: string, cause: 'clock' | 'certificate') => void;

/** The reason a server certificate is not good at `nowMs` by the robot's clock, or undefined. */
export function clockProblem(
  cert: Pick<PeerCertificate, 'valid_from' | 'valid_to'>,
  nowMs: number,
): string | undefined {
  const from = Date.parse(cert.valid_from);
  const to = Date.parse(cert.valid_to);
  const now = new Date(nowMs).toISOString();
  if (nowMs < from)
    return `the cloud's certificate is not valid until ${new Date(from).toISOString()}; the robot's clock says ${now}`;
  if (nowMs > to)
    return `the cloud's certificate expired at ${new Date(to).toISOString()}; the robot's clock says ${now}`;
  return undefined;
}

/** What a TLS failure says, from a fetch error's cause chain; undefined when it was no TLS refusal. */
export function tlsRefusal(error: unknown): string | undefined {
  for (
    let e = error as { cause?: unknown; code?: unknown; message?: unknown } | undefined;
    e;
    e = e.cause as typeof e
  ) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(code) || e instanceof CloudCertificateError)
      return `${String(e.message)}${code ? ` (${code})` : ''}`;
  }
  return undefined;
}

const CLOCK_CODE = 'ERR_TLS_CERT_CLOCK';

/** The cloud's certificate is good, but not by the robot's clock. */
class CloudCertificateError extends Error {
  override name = 'CloudCertificateError';
  readonly code = CLOCK_CODE;
}

/** The robot's side of mutual TLS: a fetch and a node:https agent that present its certificate. */
export interface CloudIdentity {
  fetch: typeof fetch;
  httpsAgent: HttpsAgent;
}

/**
 * Mutual TLS with the identity in `dir` (ca.pem, cert.pem, key.pem). `now` is the robot's clock.
 * Each distinct refusal of the cloud's certificate reaches `onRefused` once.
 */
export function cloudIdentity(dir: string, now: () => number, onRefused: RefusalListener): CloudIdentity {
  const files = identityFiles(dir);
  const read = (path: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      const reason = (error as Error).message;
      throw new Error(`edge-agent: the robot's identity ${path} cannot be read: ${reason}`, { cause: error });
    }
  };
  const connect = {
    ca: read(files.ca),
    cert: read(files.cert),
    key: read(files.key),
    servername: CLOUD_SERVER_NAME,
    // OpenSSL has checked the chain against the fleet CA by the machine's clock; the robot's own
    // clock and the cloud's name are checked here.
    checkServerIdentity: (_host: string, cert: PeerCertificate) =>
      checkServerIdentity(CLOUD_SERVER_NAME, cert) ??
      (() => {
        const problem = clockProblem(cert, now());
        return problem ? new CloudCertificateError(problem) : undefined;
      })(),
  };
  const dispatcher = new Agent({ connect });
  const heard = new Set<string>();
  const tlsFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    try {
      return await undiciFetch(input as string, { ...(init as object), dispatcher });
    } catch (error) {
      const refusal = tlsRefusal(error);
      if (refusal && !heard.has(refusal)) {
        heard.add(refusal);
        onRefused(refusal, refusal.includes(CLOCK_CODE) ? 'clock' : 'certificate');
      }
      throw error;
    }
  };
  return { fetch: tlsFetch, httpsAgent: new HttpsAgent({ ...connect, keepAlive: true }) };
}

/** Makes {@link cloudIdentity} this process's: its `fetch`, and the agent downloads take. */
export function useCloudIdentity(dir: string, now: () => number, onRefused: RefusalListener): void {
  const identity = cloudIdentity(dir, now, onRefused);
  globalThis.fetch = identity.fetch;
  httpsAgent = identity.httpsAgent;
}
