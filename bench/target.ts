/**
 * A figure's target as data, so that code judges it and the report can say why: `{ op: '<=',
 * value: 5000, unit: 'ms', text: '<= 5000 ms' }`. The text is derived, never typed by hand, so it
 * cannot drift from what is judged.
 */

/** How a measured value must compare with the target's value. */
export type TargetOp = '<=' | '<' | '>=' | '>';

/** What a figure's definition gives: the comparison and the bound, in the figure's unit. */
export interface TargetSpec {
  op: TargetOp;
  value: number;
}

/** A target as reports carry it: the bound, its unit and the human text. */
export interface Target extends TargetSpec {
  unit: string;
  text: string;
}

const OPS: ReadonlySet<string> = new Set<TargetOp>(['<=', '<', '>=', '>']);

/** The full target of a figure measured in `unit`; throws, naming the figure, on a malformed spec. */
export function makeTarget(figure: string, spec: TargetSpec, unit: string): Target {
  if (!OPS.has(spec.op))
    throw new TypeError(`bench figure ${figure}: target op '${spec.op}' is not <=, <, >= or >`);
  if (!Number.isFinite(spec.value)) {
    throw new TypeError(`bench figure ${figure}: target value must be a finite number, got ${spec.value}`);
  }
  return { op: spec.op, value: spec.value, unit, text: `${spec.op} ${spec.value} ${unit}` };
}

/**
 * Whether `value` meets the target. A value that is not a finite number is no measurement: it
 * throws instead of failing, so "could not tell" never reads as "missed".
 */
export function meets(target: TargetSpec, value: number): boolean {
  if (!Number.isFinite(value))
    throw new RangeError(`cannot judge ${value} against ${target.op} ${target.value}`);
  switch (target.op) {
    case '<=':
      return value <= target.value;
    case '<':
      return value < target.value;
    case '>=':
      return value >= target.value;
    case '>':
      return value > target.value;
  }
}
