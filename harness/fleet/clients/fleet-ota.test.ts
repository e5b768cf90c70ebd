/*
 * Waiting on a deployment (FleetOta.waitFor) against a cloud on loopback that drops some polls:
 * a poll with no answer (a busy machine) is asked again until the deadline, while a refusal ends
 * the wait at once and a cloud that never answers ends it in a timeout that says so.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from '@playwright/test';
import type { DeploymentDetail } from '../../../protocol/ota-cloud.ts';
import { TimeoutError } from '../../core/errors.ts';
import { FleetOta, OtaApiError } from './fleet-ota.ts';

/** A deployment of one robot, r04, finished with `status`. */
function deployment(status: 'success' | null): Partial<DeploymentDetail> {
  return {
    id: 'd1',
    status: status ? 'finished' : 'rolling',
    robots: [
      {
        robotId: 'r04',
        canary: false,
        offeredAt: 1_000,
        state: 'ArtifactCommit',
        status,
        message: null,
        startedAt: 1_000,
        finishedAt: status ? 2_000 : null,
        bytesServed: 0,
        history: [],
      },
    ],
  };
}

/** A cloud on loopback that handles poll n (from 1) with `handle`; resolves with its URL and closer. */
async function cloud(handle: (poll: number, request: IncomingMessage, response: ServerResponse) => void) {
  let polls = 0;
  const server = createServer((request, response) => handle(++polls, request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    polls: () => polls,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const json = (response: ServerResponse, status: number, body: unknown) => {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
};

test('polls the cloud drops are asked again; the wait ends when the robot finishes', async () => {
  // Poll 1 and 3 get no answer (the connection is dropped), poll 2 is unfinished, poll 4 finished.
  const server = await cloud((poll, request, response) => {
    if (poll === 1 || poll === 3) return request.socket.destroy();
    json(response, 200, deployment(poll >= 4 ? 'success' : null));
  });
  try {
    const finished = await new FleetOta(server.url, undefined, undefined, 2_000).waitUntilFinished('d1', {
      timeoutMs: 10_000,
    });
    expect(finished.robots[0]!.status).toBe('success');
    expect(server.polls()).toBe(4);
  } finally {
    await server.close();
  }
});

test('a refusal ends the wait at once; a cloud that never answers ends it in a timeout that says so', async () => {
  const refusing = await cloud((_poll, _request, response) =>
    json(response, 404, { error: 'no deployment d1' }),
  );
  try {
    const error = await new FleetOta(refusing.url, undefined, undefined, 2_000)
      .waitUntilFinished('d1', { timeoutMs: 10_000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OtaApiError);
    expect((error as Error).message).toContain('answered 404');
    expect(refusing.polls()).toBe(1);
  } finally {
    await refusing.close();
  }

  const silent = await cloud((_poll, request) => request.socket.destroy());
  try {
    const error = await new FleetOta(silent.url, undefined, undefined, 2_000)
      .waitUntilFinished('d1', { timeoutMs: 600 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toMatch(
      /^deployment d1: the fleet cloud answered no poll within 600 ms; the last poll had no answer: fleet cloud at http:\/\/127\.0\.0\.1:\d+: GET \/v1\/deployments\/d1 failed/,
    );
    expect(silent.polls()).toBeGreaterThan(1);
  } finally {
    await silent.close();
  }
});
