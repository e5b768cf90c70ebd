import type { TestInfo } from '@playwright/test';
import type { HilVerdict } from '../hil/budget.ts';
import { latencyHistogramSvg } from '../hil/histogram.ts';
import type { HilResult } from '../hil/types.ts';

/**
 * Attaches a HIL run to the report: the KPIs as annotations, the verdict with every check, a
 * latency histogram, the device's clock state and telemetry, and every raw log the stage kept.
 */
export async function attachHilEvidence(
  testInfo: TestInfo,
  result: HilResult,
  verdict: HilVerdict,
): Promise<void> {
  const kpis = {
    stage: result.stage,
    model: result.model.name,
    valid: result.valid,
    queries: result.queries,
    duration_ms: Math.round(result.durationMs),
    p50_ms: result.latencyMs.p50,
    p90_ms: result.latencyMs.p90,
    p99_ms: result.latencyMs.p99,
    max_ms: result.latencyMs.max,
    throughput_qps: result.throughputQps,
  };
  testInfo.annotations.push({
    type: 'kpi',
    description: Object.entries(kpis)
      .map(([key, value]) => `${key}=${typeof value === 'number' ? Number(value.toFixed(3)) : value}`)
      .join(' '),
  });
  const json = (name: string, body: unknown) =>
    testInfo.attach(name, { body: JSON.stringify(body, null, 2), contentType: 'application/json' });
  await json('hil verdict', verdict);
  await json('hil kpis', kpis);
  await testInfo.attach('latency histogram', {
    body: await latencyHistogramSvg(result.perQueryMs, `${result.model.name} on ${result.stage}`),
    contentType: 'image/svg+xml',
  });
  await json('device clock state', result.clocks);
  await json('environment', { ...result.environment, model_sha256: result.model.sha256 });
  if (result.device.length) await json('device telemetry', result.device);
  for (const [name, text] of Object.entries(result.logs)) {
    await testInfo.attach(`log: ${name}`, { body: text, contentType: 'text/plain' });
  }
}
