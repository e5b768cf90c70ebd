import type { CellJudgement, CellMeasured } from './judge.ts';
import type { History, Reliability } from './policy.ts';

/**
 * One cell of the QoS matrix as a plot draws it (`qosMatrixChart` in harness/report/charts,
 * drawn with vega-lite).
 */
export interface MatrixCell {
  topic: string;
  reliability: Reliability;
  history: History;
  /** Link profile name: the column. */
  profile: string;
  measured: Pick<CellMeasured, 'deliveredRatio' | 'received' | 'latencyMs'>;
  judgement: CellJudgement;
}
