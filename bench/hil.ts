import { DEFAULT_MODEL } from '../harness/hil/run.ts';
import { hilOverheadPct, LocalStage } from '../harness/hil/local-stage.ts';

/**
 * The local HIL stage's own cost: the wall time of its measured loop beyond the inference calls
 * it times, per query, as a share of the median latency. Target below 1 %.
 */
export async function hilOverhead(
  seed: number,
): Promise<{ pct: number; overheadPerQueryMs: number; p50Ms: number; queries: number }> {
  const stage = await new LocalStage({ inputSeed: seed }).start(DEFAULT_MODEL);
  try {
    const result = await stage.benchmark({ warmupQueries: 20, minQueries: 500, minDurationMs: 5_000 });
    return {
      pct: hilOverheadPct(result),
      overheadPerQueryMs: result.overheadPerQueryMs,
      p50Ms: result.latencyMs.p50,
      queries: result.queries,
    };
  } finally {
    await stage.stop();
  }
}
