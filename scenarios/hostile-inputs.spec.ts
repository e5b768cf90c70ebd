/*
 * Hostile inputs at volume (issue 18): every server and file loader a fleet exposes, fed seeded
 * property-based inputs one step from valid and plain garbage. Each must never crash, answer
 * every bad input with a status its API documents (never a 5xx) or an error naming the file and
 * field, and keep the data it held before. 500 inputs per target in `npm test`, 10 000 in the
 * nightly (FLEETDRILL_FUZZ_RUNS); the counts by outcome go to the report. The servers run in this
 * worker, as the harness runs the cloud and the fault layer: no fleet is needed.
 */
import { expect, FUZZ_TARGETS, fuzzKpi, fuzzRuns, replayHint, test } from '../harness/index.ts';

const runs = fuzzRuns();

test.describe('hostile inputs', { tag: ['@security', '@nightly'] }, () => {
  for (const target of FUZZ_TARGETS) {
    // The title leaves out the input count, so that npm test and the nightly share a history.
    test(`${target.name}: hostile inputs, no crash, no 5xx, every refusal documented, stored data intact`, async ({
      seed,
    }) => {
      // Up to ~17 ms an input on a loaded machine (4 MiB bodies, fsyncs): twice that, plus the start.
      test.setTimeout(60_000 + runs * 40);
      const report = await target.run({ runSeed: seed, runs });
      await test.info().attach(`hostile inputs: ${target.name}`, {
        body: JSON.stringify(report, null, 2),
        contentType: 'application/json',
      });
      test.info().annotations.push({ type: 'kpi', description: fuzzKpi(report) });
      const why = report.violation
        ? `${report.violation.message}\ninput: ${report.violation.input ?? '(after the inputs)'}\nreplay: ${replayHint(report)}`
        : '';
      expect(report.violation, why).toBeUndefined();
      expect(report.serverErrors).toBe(0);
      expect(report.sent).toBe(runs);
    });
  }
});
