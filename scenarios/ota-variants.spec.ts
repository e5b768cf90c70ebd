import {
  attachOtaDrill,
  expect,
  expectedOutcome,
  phase,
  recordFigure,
  runOtaDrill,
  test,
  withDetail,
} from '../harness/index.ts';
import { REFUSED_DRILLS, VARIANT_DRILLS } from './ota-tables.ts';

// One robot takes every update in turn, as a robot in service does.
test.use({ robots: 1 });

test.describe('OTA: each software variant', { tag: ['@ota', '@nightly', '@release', '@OTA-001'] }, () => {
  for (const drill of [...VARIANT_DRILLS, ...REFUSED_DRILLS]) {
    test(drill.name, async ({ fleet, claim }) => {
      test.setTimeout(120_000);
      const robot = await claim.one();
      // The deployment is the fault; the drill runner observes the robot to its end state.
      const result = await phase(
        'fault',
        { robot: robot.id, artifact: JSON.stringify(drill.artifact), expected: expectedOutcome(drill) },
        () => runOtaDrill(fleet, robot.id, drill),
      );
      await attachOtaDrill(test.info(), 'ota drill', drill, result);
      await phase(
        'verdict',
        { status: result.status ?? 'none', 'runs at the end': result.runningVersion ?? 'no answer' },
        () => expect(result.problems, withDetail(drill.name, result.message)).toEqual([]),
      );
      // The time from deployment to the end state (committed, or rolled back and reported): a
      // release that takes much longer to recover from a bad image is a regression.
      if ('variant' in drill.artifact && drill.artifact.variant)
        await recordFigure(test.info(), {
          id: `ota/${drill.artifact.variant}/drill_s`,
          value: Number((result.ms / 1000).toFixed(2)),
          unit: 's',
          better: 'lower',
          valid: true,
          note: `${result.status ?? 'no status'} on ${result.robot}`,
        });
    });
  }
});
