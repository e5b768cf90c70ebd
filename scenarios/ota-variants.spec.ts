import { expect, runOtaDrill, test } from '../harness/index.ts';
import { REFUSED_DRILLS, VARIANT_DRILLS } from './ota-tables.ts';

// One robot takes every update in turn, as a robot in service does.
test.use({ robots: 1 });

test.describe('OTA: each software variant', { tag: ['@ota', '@nightly'] }, () => {
  for (const drill of [...VARIANT_DRILLS, ...REFUSED_DRILLS]) {
    test(drill.name, async ({ fleet }) => {
      test.setTimeout(120_000);
      const result = await runOtaDrill(fleet, 'r01', drill);
      await test
        .info()
        .attach('ota drill', { body: JSON.stringify(result, null, 2), contentType: 'application/json' });
      expect(result.problems, `${drill.name}: ${result.message ?? ''}`).toEqual([]);
    });
  }
});
