import {
  attachHilEvidence,
  expect,
  HIL_TARGET_ENV,
  loadConfig,
  runHil,
  test,
  withDetail,
} from '../harness/index.ts';

// The stage comes from HIL_TARGET: `local` (ONNX Runtime on this machine, the default) or
// ssh://user@jetson for a Jetson on the bench; the budget and discipline from the config (hil).
test.describe('HIL: perception model latency', { tag: ['@hil', '@nightly', '@release', '@HIL-001'] }, () => {
  test('the perception model meets its latency budget on the configured stage', async ({ seed }) => {
    test.setTimeout(300_000);
    const { hil } = loadConfig();
    const stage = process.env[HIL_TARGET_ENV] || 'local';
    const { result, verdict } = await runHil({
      stage,
      seed,
      discipline: hil.discipline,
      budgets: hil.budgets,
    });
    await attachHilEvidence(test.info(), result, verdict);
    expect(
      result.valid,
      withDetail(result.valid ? 'the run is valid' : 'the run is invalid', result.invalidReasons.join('; ')),
    ).toBe(true);
    expect(result.queries).toBeGreaterThanOrEqual(hil.discipline.minQueries);
    expect(verdict.failures, `${result.model.name} on ${stage}`).toEqual([]);
  });
});
