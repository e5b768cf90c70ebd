/**
 * A drill's figure for the release qualification: a number the drill measured (an OTA rollback
 * time, the telemetry lost in a dead zone), attached to the test so it travels with the result,
 * through shards and merged reports, into the qualification's evidence.
 */
import type { TestInfo } from '@playwright/test';
import { FIGURE_CONTENT_TYPE, parseFigure } from './qualification/drill-evidence.ts';
import type { Figure } from './qualification/types.ts';

/** Records `figure` on the running test; a malformed figure throws at once, naming the field. */
export async function recordFigure(testInfo: TestInfo, figure: Figure): Promise<void> {
  const checked = parseFigure(figure, `${testInfo.title}: recordFigure`);
  await testInfo.attach(`figure ${checked.id}`, {
    body: JSON.stringify(checked),
    contentType: FIGURE_CONTENT_TYPE,
  });
}
