import { test as base, expect } from '@playwright/test';
import type { AgentSettings } from '../reference/edge-agent/index.ts';
import type { OtaClientName } from '../protocol/disk-layout.ts';
import type { BackendName } from './core/config.ts';
import { DEFAULT_CONFIG, loadConfig } from './core/config.ts';
import { FleetdrillError } from './core/errors.ts';
import { EventBus } from './core/events.ts';
import { runSeed } from './core/seed.ts';
import { RobotClaims } from './fleet/claims.ts';
import type { FaultSession } from './fleet/fault-session.ts';
import { Fleet, type StartedFleet } from './fleet/index.ts';
import type { FleetVpnOption } from './fleet/vpn.ts';
import { provisionRobots } from './ota/provision.ts';
import { assertNoProcessWarnings, logSize } from './fleet/process-warnings.ts';
import { attachEvidence, labelTest, markEvidence, recordDrillSetup } from './report/evidence.ts';
import { attachBootTimes } from './report/boot-evidence.ts';
import { redactTestOutput } from './report/redacted-output.ts';

/** Knobs a project or `test.use()` can set; `playwright.config.ts` fills them from the config. */
export interface FleetWorkerOptions {
  /** Robots in the worker's fleet. */
  robots: number;
  /** The run's seed (FLEETDRILL_SEED replays a run). */
  seed: number;
  /** World name or path. */
  world: string;
  /** Simulation real-time factor. */
  rtf: number;
  backend: BackendName;
  /** Docker backend: a robot image of the user's instead of the reference robot's; '' for none. */
  robotImage: string;
  /** Edge agents on the robots and a fleet cloud (default on). */
  telemetry: boolean;
  /** Settings of every robot's edge agent; a file that sets them gets a fleet of its own. */
  agent: AgentSettings;
  /** Who updates the robots (config `ota.client`): fleetdrill's own OTA client, or mender, rauc, swupdate. */
  otaClient: OtaClientName;
  /** The agent ↔ cloud link through a WireGuard tunnel behind a NAT (docs/vpn.md); default off. */
  vpn: FleetVpnOption;
}

interface WorkerFixtures extends FleetWorkerOptions {
  /** The worker's event bus: every side effect of the run. */
  events: EventBus;
  /** A fleet shared by the tests of one worker, started on first use. */
  fleet: StartedFleet;
}

interface TestFixtures {
  /**
   * The drill's robots: `await claim.one()`, `claim.some(2, { needs: ['freeze'] })`, `claim.all()`.
   * Each claim gets robots no other claim of the drill holds, brought to a known state.
   */
  claim: RobotClaims;
  /** The drill's Wi-Fi following, fault schedules and chaos, ended when the drill ends, pass or fail. */
  faults: FaultSession;
  /**
   * Labels, seed, robot logs and events for the report; fails the test if a robot died or a
   * callback on a robot's link threw without being reported.
   */
  fleetEvidence: void;
  /** Keys and tokens out of the drill's attachments, annotations and errors (docs/security.md). */
  redactedOutput: void;
}

// The fleet of this worker, if a test has asked for it; the evidence fixture must not start one.
let workerFleet: StartedFleet | undefined;
// Each running drill's claims, by test id: the report attaches the robots they handed out.
const drillClaims = new Map<string, RobotClaims>();

/**
 * The fleetdrill `test`: Playwright's, with a worker-scoped simulated fleet. Scenarios import it
 * (and `expect`) from `harness/index.ts`.
 */
export const test = base.extend<TestFixtures, WorkerFixtures>({
  robots: [DEFAULT_CONFIG.fleet.robots, { option: true, scope: 'worker' }],
  seed: [runSeed(), { option: true, scope: 'worker' }],
  world: [DEFAULT_CONFIG.fleet.world, { option: true, scope: 'worker' }],
  rtf: [DEFAULT_CONFIG.fleet.rtf, { option: true, scope: 'worker' }],
  backend: [DEFAULT_CONFIG.fleet.backend, { option: true, scope: 'worker' }],
  robotImage: ['', { option: true, scope: 'worker' }],
  telemetry: [DEFAULT_CONFIG.fleet.telemetry, { option: true, scope: 'worker' }],
  agent: [{}, { option: true, scope: 'worker' }],
  vpn: [false, { option: true, scope: 'worker' }],
  // The config file's `ota.client`, read when a worker first needs it; test.use() overrides it.
  otaClient: [async ({}, use) => use(loadConfig().ota.client), { option: true, scope: 'worker' }],

  // Registered before the other auto fixtures so that it comes down after them: what the evidence
  // fixture attaches and throws on the way down is redacted too.
  redactedOutput: [
    async ({}, use, testInfo) => {
      const output = redactTestOutput(testInfo);
      try {
        await use();
      } finally {
        output.finish();
      }
    },
    { auto: true, box: true },
  ],

  events: [
    async ({}, use) => {
      await use(new EventBus());
    },
    { scope: 'worker', box: true },
  ],

  fleet: [
    async (
      { robots, seed, world, rtf, backend, robotImage, telemetry, agent, otaClient, vpn, events },
      use,
    ) => {
      // Custom link profiles and the listen address come from the config (`fleetdrill run
      // --listen-address` sets it for the workers); they are not per-test knobs.
      const config = loadConfig();
      const { profiles } = config.net;
      const fleet = await new Fleet({
        robots,
        seed,
        world,
        rtf,
        backend,
        robotImage: robotImage || undefined,
        events,
        profiles,
        listenAddress: config.fleet.listenAddress,
        telemetry,
        vpn,
        provision: provisionRobots({ software: { otaClient }, agent }),
      }).start();
      workerFleet = fleet;
      try {
        await use(fleet);
      } finally {
        workerFleet = undefined;
        await fleet.stop();
      }
    },
    { scope: 'worker', timeout: 120_000 },
  ],

  claim: async ({ fleet }, use, testInfo) => {
    const claims = new RobotClaims(fleet);
    drillClaims.set(testInfo.testId, claims);
    await use(claims);
  },

  faults: async ({ fleet }, use) => {
    const session = fleet.openFaultSession();
    try {
      await use(session);
    } finally {
      await session.close();
    }
  },

  fleetEvidence: [
    async ({ seed, robotImage }, use, testInfo) => {
      await labelTest(testInfo, seed);
      const mark = markEvidence(workerFleet);
      const cloudLogFrom = workerFleet?.telemetry ? logSize(workerFleet.cloud.logPath) : 0;
      await use();
      const claims = drillClaims.get(testInfo.testId);
      drillClaims.delete(testInfo.testId);
      const fleet = workerFleet;
      if (!fleet) return;
      // Read from the started fleet, not the config: a drill may run with other robots or backend.
      await recordDrillSetup({
        robots: fleet.roster.length,
        backend: fleet.backendName,
        world: fleet.info.world.name,
        rtf: fleet.info.rtf,
        otaClient: fleet.info.otaClient,
        telemetry: fleet.telemetry,
        robotImage: robotImage || undefined,
      });
      await attachBootTimes(testInfo, fleet);
      const deaths = fleet.deathsSince(mark.startedAt);
      const touched = deaths.length ? fleet.roster.map((robot) => robot.id) : (claims?.ids ?? []);
      try {
        await attachEvidence(testInfo, fleet, mark, touched);
      } finally {
        // The fleet outlives the drill: links a drill faulted without a session are cleared too.
        await fleet.network.clearAll();
      }
      // Taken now, whatever fails first below, so that none is left to fail the next drill.
      const swallowed = fleet.takeUnreportedCallbackErrors();
      // A robot that crashed fails the drill even if its assertions happened to pass.
      if (deaths[0]) throw deaths[0];
      // So does a Node warning from a robot's or the cloud's processes (a listener leak, say).
      assertNoProcessWarnings([
        ...fleet.roster.map((robot) => ({
          who: robot.id,
          path: robot.logPath,
          fromOffset: mark.logOffsets.get(robot.id) ?? 0,
        })),
        ...(fleet.telemetry ? [{ who: 'cloud', path: fleet.cloud.logPath, fromOffset: cloudLogFrom }] : []),
      ]);
      // So does a callback that threw (an `expect` in a subscriber) and that no probe's `stop()` or
      // wait reported: roslib would have swallowed it, and the drill would pass unchecked.
      const [first, ...more] = swallowed;
      if (first && more.length === 0) throw first;
      if (first) {
        throw new FleetdrillError(swallowed.map((error) => error.message).join('\n'), {
          cause: first,
        });
      }
    },
    { auto: true, box: true },
  ],
});

export { expect };
