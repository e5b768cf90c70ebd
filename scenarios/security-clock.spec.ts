/*
 * A robot without an RTC battery boots with its clock in 1970 (issue 18). By its own clock no
 * certificate is valid yet, so it cannot trust its cloud. What it must do: wait for time, retry,
 * raise an event, and neither drop telemetry nor brick an update deployed meanwhile.
 */
import {
  checkTelemetry,
  expect,
  phase,
  runOtaDrill,
  test,
  withDetail,
  type OtaDrill,
} from '../harness/index.ts';

test.use({ robots: 1 });

const UPDATE_WHILE_NO_TIME: OtaDrill = {
  name: 'an update deployed while the robot has no time',
  artifact: { variant: 'good' },
  expect: {
    status: 'success',
    ends: 'new',
    states: ['Download', 'ArtifactInstall', 'ArtifactReboot', 'ArtifactCommit'],
  },
};

test.describe('security: a robot clock that resets', { tag: ['@security', '@nightly', '@release'] }, () => {
  test('booted in 1970, the agent waits for time: it refuses the cloud, keeps every record, raises an event, and updates once time comes', async ({
    fleet,
    claim,
  }) => {
    test.setTimeout(180_000);
    const robot = await claim.one();
    try {
      const boot = await phase('set-up', { robot: robot.id, clock: '1970-01-01T00:00:00Z' }, async () => {
        await robot.setClock(new Date(0));
        // A boot: a new agent, whose every connection to the cloud is checked by the 1970 clock.
        await robot.reboot();
        return (await robot.agent.waitUntilReady()).boot_id;
      });

      const update = runOtaDrill(fleet, robot.id, UPDATE_WHILE_NO_TIME, { timeoutMs: 150_000 });
      update.catch(() => {}); // judged below; a rejection meanwhile must not go unhandled
      await phase('fault', { 'clock wrong for': '8 s', deployed: 'one version up' }, async () => {
        await new Promise((resolve) => setTimeout(resolve, 8_000));
        const stored = await fleet.cloud.api.records(robot.id, { boot });
        expect(stored, 'records of the 1970 boot the cloud got before the robot had time').toEqual([]);
        const status = await robot.agent.status();
        expect(status.backlog, 'records the agent keeps on its disk meanwhile').toBeGreaterThan(0);
      });

      const result = await phase('verdict', { clock: 'set by NTP' }, async () => {
        await robot.setClock(null);
        const result = await update;
        expect(result.problems, withDetail(UPDATE_WHILE_NO_TIME.name, result.message)).toEqual([]);
        await checkTelemetry(fleet, [robot.id], { drainTimeoutMs: 60_000 });
        const events = await fleet.cloud.api.records(robot.id, { tier: 'events', boot });
        const invalid = events.find((record) => record.name === 'clock-invalid');
        expect(invalid, 'the agent raised a clock-invalid event, delivered once time came').toBeDefined();
        expect(String(invalid!.data.reason)).toMatch(/not valid until .*; the robot's clock says 1970-01-01/);
        return result;
      });
      test.info().annotations.push({
        type: 'kpi',
        description: `update_ms=${result.ms} from=${result.fromVersion} to=${result.deployedVersion}`,
      });
    } finally {
      await robot.setClock(null);
    }
  });
});
