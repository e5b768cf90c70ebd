import fc from 'fast-check';
import { OTA_STATES, TERMINAL_STATUSES } from '../../../protocol/ota-cloud.ts';
import { brokenDocuments } from '../hostile-json.ts';
import type { HttpInput } from '../http.ts';
import { expectIntact } from '../oracles.ts';
import {
  cloudTarget,
  FUZZ_ROBOTS,
  hostileSegment,
  KEPT_ROBOT,
  type CloudUnderFuzz,
} from './cloud-under-fuzz.ts';

/**
 * What protocol/ota-cloud.ts documents for the deployment routes: 200, 201, 204 (nothing
 * offered), 400 naming the field, 404 for a deployment or robot it does not know, 405, 409 when
 * the robot may not report on it, 413 past the body limit, 415 for a body that is not JSON.
 */
export const DEPLOYMENT_STATUSES: ReadonlySet<number> = new Set([
  200, 201, 204, 400, 404, 405, 409, 413, 415,
]);

const json = (method: string, path: string, text: string): HttpInput => ({
  method,
  path,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(text),
});

/** Creates a deployment over the API and returns its id. */
async function createDeployment(under: CloudUnderFuzz, name: string, robots: string[]): Promise<string> {
  const body = JSON.stringify({ name, artifactId: under.artifactId, robots, canaryPercent: 0 });
  const answer = await under.expectStatus(json('POST', '/v1/deployments', body), 201);
  return (JSON.parse(answer.body.toString('utf8')) as { id: string }).id;
}

/**
 * Deployments created with one field broken, and the robots' side: offers asked for and status
 * reports, one field broken, on deployments that exist (so the rollout's own rules answer, not
 * only the schema). A deployment for the kept robot, made first, must read back unchanged: no
 * report from another robot may touch it.
 */
export const cloudDeploymentsTarget = cloudTarget('cloud-deployments', DEPLOYMENT_STATUSES, async (under) => {
  const keptId = await createDeployment(under, 'kept', [KEPT_ROBOT]);
  const fuzzIds = [
    await createDeployment(under, 'fz-a', [...FUZZ_ROBOTS]),
    await createDeployment(under, 'fz-b', ['fz01']),
  ];
  const keptDetail = async () =>
    JSON.parse(
      (await under.expectStatus({ method: 'GET', path: `/v1/deployments/${keptId}` }, 200)).body.toString(
        'utf8',
      ),
    ) as unknown;
  const before = await keptDetail();

  const creations = brokenDocuments({
    name: 'fz',
    artifactId: under.artifactId,
    robots: ['fz01', 'fz02'],
    canaryPercent: 50,
    failureThreshold: 0.5,
    allowDowngrade: false,
  }).map((doc) => json('POST', '/v1/deployments', doc.text));
  const deployment = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...fuzzIds) },
    { weight: 1, arbitrary: fc.oneof(hostileSegment, fc.uuid()) },
  );
  // A robot asking for its offer is offered it (counts.offered): the kept robot must not ask.
  const otherRobot = hostileSegment.filter((robot) => robot !== KEPT_ROBOT);
  const report = fc
    .tuple(
      fc.constantFrom(...OTA_STATES, ...TERMINAL_STATUSES),
      fc.option(fc.constantFrom(...TERMINAL_STATUSES)),
    )
    .chain(([state, status]) =>
      brokenDocuments({ state, ...(status === null ? {} : { status }), message: 'fuzz' }),
    );
  const reports = fc
    .tuple(
      fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...FUZZ_ROBOTS) },
        { weight: 1, arbitrary: otherRobot },
      ),
      deployment,
      report,
    )
    .map(([robot, id, doc]) => json('PUT', `/v1/robots/${robot}/deployments/${id}/status`, doc.text));
  const reads = fc
    .tuple(
      fc.constantFrom('GET', 'DELETE', 'POST'),
      fc.oneof(otherRobot, fc.constantFrom(...FUZZ_ROBOTS)),
      deployment,
    )
    .chain(([method, robot, id]) =>
      fc.constantFrom<HttpInput>(
        { method, path: `/v1/robots/${robot}/deployment` },
        { method, path: `/v1/deployments/${id}` },
        { method, path: '/v1/deployments' },
      ),
    );
  return {
    inputs: fc.oneof(
      { weight: 3, arbitrary: creations },
      { weight: 5, arbitrary: reports },
      { weight: 2, arbitrary: reads },
    ),
    check: async () =>
      expectIntact(`deployment ${keptId} of robot ${KEPT_ROBOT}`, before, await keptDetail()),
  };
});
