import { request } from 'node:http';
import { OracleViolation } from './violation.ts';

/** One HTTP request as a fuzz input: anything a client can put on the wire, bad or good. */
export interface HttpInput {
  method: string;
  /** Path and query, sent as given (not normalised). */
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
}

/** What came back. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** How long one request may take before the server counts as hung. */
const ANSWER_TIMEOUT_MS = 15_000;

/** `GET /x (12 bytes)`: how a request is named in violations. */
export function describeRequest(input: HttpInput): string {
  const size = input.body ? ` (${input.body.length} bytes)` : '';
  return `${input.method} ${input.path.slice(0, 200)}${size}`;
}

/**
 * Sends one raw request with node:http rather than fetch, which would refuse or normalise much
 * of what a hostile client sends. No answer at all (refused, reset, hung) is a violation: the
 * server crashed or stopped serving.
 */
export function exchange(base: string, input: HttpInput): Promise<HttpAnswer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: input.method,
        path: input.path,
        headers: input.headers,
        agent: false,
        timeout: ANSWER_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', (error) =>
          reject(new OracleViolation(`${describeRequest(input)}: answer cut off (${error.message})`)),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`)));
    req.on('error', (error) =>
      reject(new OracleViolation(`${describeRequest(input)}: no answer (${error.message})`)),
    );
    req.end(input.body);
  });
}
