/**
 * Figures from the evidence sources beside the drills: the HIL stage's KPIs, the QoS matrix's
 * cells and the OTA fuzz summary, each named `<source>/<…>` so a requirement can point at one.
 * A measurement that does not count (an invalid HIL run, a cell that could not tell) keeps its
 * number but is marked invalid: "could not tell", never compared as if it were right.
 */
import type { HilResult } from '../../hil/types.ts';
import type { OtaFuzzResult } from '../../ota/fuzz.ts';
import type { QosMatrixResult } from '../../qos/dds/matrix.ts';
import type { Figure } from './types.ts';

const round = (value: number, digits = 3) => Number(value.toFixed(digits));

/** `hil/<model>/{p50,p90,p99,max}_ms` and `throughput_qps`. */
export function hilFigures(result: HilResult): Figure[] {
  const valid = result.valid;
  const note = valid
    ? `${result.queries} queries on ${result.stage}`
    : `invalid run: ${result.invalidReasons.join('; ')}`;
  const base = `hil/${result.model.name.replace(/\.onnx$/i, '')}`;
  const l = result.latencyMs;
  const latency = (name: string, value: number): Figure => ({
    id: `${base}/${name}_ms`,
    value: round(value),
    unit: 'ms',
    better: 'lower',
    valid,
    note,
  });
  return [
    latency('p50', l.p50),
    latency('p90', l.p90),
    latency('p99', l.p99),
    latency('max', l.max),
    {
      id: `${base}/throughput_qps`,
      value: round(result.throughputQps, 1),
      unit: 'qps',
      better: 'higher',
      valid,
      note,
    },
  ];
}

/**
 * Per contract cell: `qos/<profile>/<topic>/delivered_pct` and `…/p99_ms`. A cell that could not
 * tell, or was not measured, is invalid.
 */
export function qosFigures(result: QosMatrixResult): Figure[] {
  const figures: Figure[] = [];
  for (const cell of result.cells) {
    if (cell.variant !== 'contract') continue;
    const base = `qos/${cell.profile}/${cell.topic.replace(/^\//, '')}`;
    const m = cell.measurement;
    const valid = m !== undefined && m !== null && cell.judgement.verdict !== 'could-not-tell';
    const note = valid
      ? `${cell.reliability} ${cell.history}`
      : `could not tell: ${cell.judgement.reasons.join('; ')}`;
    figures.push({
      id: `${base}/delivered_pct`,
      value: m ? round(m.deliveredRatio * 100, 2) : 0,
      unit: '%',
      better: 'higher',
      valid,
      note,
    });
    if (m && m.received > 0)
      figures.push({
        id: `${base}/p99_ms`,
        value: round(m.latencyMs.p99, 2),
        unit: 'ms',
        better: 'lower',
        valid,
        note,
      });
  }
  return figures;
}

/** `ota-fuzz/<client>/{bricked,unverified_boots,invalid_envs,not_converged,cuts}`. */
export function fuzzFigures(result: OtaFuzzResult): Figure[] {
  const base = `ota-fuzz/${result.ota_client}`;
  // Counts of wrong outcomes stay valid when some checks could not tell: what was seen was seen.
  // The pass itself needs every check told, which `could_not_tell` carries.
  const valid = true;
  const note = `${result.cuts} cuts, seed ${result.seed}`;
  const count = (name: string, value: number, better: 'lower' | 'higher' = 'lower'): Figure => ({
    id: `${base}/${name}`,
    value,
    unit: 'count',
    better,
    valid,
    note,
  });
  return [
    count('bricked', result.bricked),
    count('unverified_boots', result.unverified_boots),
    count('invalid_envs', result.invalid_envs),
    count('not_converged', result.updates - result.converged),
    count('could_not_tell', result.inconclusive),
    count('cuts', result.cuts, 'higher'),
  ];
}
