import { expect, runOtaDrill, test } from '../harness/index.ts';
import { POWER_CUT_DRILLS } from './ota-tables.ts';

test.use({ robots: 1 });

test.describe('OTA: a power cut at each state', { tag: ['@ota', '@nightly'] }, () => {
  for (const drill of POWER_CUT_DRILLS) {
    test(drill.name, async ({ fleet }) => {
      test.setTimeout(120_000);
      const result = await runOtaDrill(fleet, 'r01', drill);
      await test.info().attach('ota drill', {
        body: JSON.stringify(result, null, 2),
        contentType: 'application/json',
      });
      expect(result.powerCutAt, 'the armed power cut hit').toBeDefined();
      expect(result.problems, `${drill.name}: ${result.message ?? ''}`).toEqual([]);
    });
  }
});
