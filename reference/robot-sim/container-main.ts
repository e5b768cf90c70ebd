/*
 * The reference robot software as a container image holds it (the container-image update
 * channel): the same simulator and variants as an A/B slot's software, started on its own, with a
 * health endpoint on the container's loopback that the image's HEALTHCHECK asks.
 *
 *   node robot-app.mjs --id r01            the software
 *   node robot-app.mjs --health            the health check: prints an AppHealth line, exit 0 when healthy
 *
 * Its variant is compiled in (variant.ts) and its version comes from the image
 * (FLEETDRILL_APP_VERSION): `crashes-on-boot` exits before listening, `fails-self-test` runs but
 * answers `failed`.
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { APP_HEALTH_PORT, type AppHealth } from '../../protocol/container-update.ts';
import { parseWorld } from '../../protocol/world.ts';
// The image holds no world files: the warehouse goes in with the bundle.
import warehouse from '../worlds/warehouse.json' with { type: 'json' };
import { startRobotSim } from './index.ts';
import { bootVariant, SOFTWARE_VERSION, variantSelfTestFailures } from './variant.ts';

async function health(): Promise<never> {
  let answer: AppHealth;
  try {
    const response = await fetch(`http://127.0.0.1:${APP_HEALTH_PORT}/health`, {
      signal: AbortSignal.timeout(2_000),
    });
    answer = (await response.json()) as AppHealth;
  } catch (error) {
    // Not listening yet: the process is still starting.
    answer = { status: 'booting', step: `no health endpoint yet (${(error as Error).message})` };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
  process.exit(answer.status === 'healthy' ? 0 : 1);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      id: { type: 'string', default: 'robot' },
      health: { type: 'boolean', default: false },
      seed: { type: 'string', default: '1' },
    },
    strict: true,
  });
  if (values.health) await health();
  let state: AppHealth = { status: 'booting', step: 'variant boot step' };
  const server = createServer((_request, response) => {
    response.writeHead(state.status === 'healthy' ? 200 : 503, { 'content-type': 'application/json' });
    response.end(JSON.stringify(state));
  });
  await new Promise<void>((resolve) => server.listen(APP_HEALTH_PORT, '127.0.0.1', resolve));
  await bootVariant();
  state = { status: 'booting', step: 'simulator starting' };
  // An image's version is its build's (FLEETDRILL_APP_VERSION), unless compiled in.
  const version = SOFTWARE_VERSION ?? process.env.FLEETDRILL_APP_VERSION ?? '1.0.0';
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0)
    throw new Error(`--seed must be a whole number, got "${values.seed}"`);
  const sim = await startRobotSim({
    id: values.id,
    world: parseWorld(warehouse, 'warehouse.json'),
    seed,
    host: '127.0.0.1',
    port: 9090,
    version,
  });
  // The self-test runs once the simulator is up, as the slot software's does.
  const failures = variantSelfTestFailures();
  state = failures.length ? { status: 'failed', failures } : { status: 'healthy', version };
  process.stdout.write(`${JSON.stringify({ event: 'ready', id: sim.id, version, health: state.status })}\n`);
  const shutdown = (): void => {
    server.close();
    void sim.stop().finally(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`robot-app: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
