import { expect, test } from '@playwright/test';
import { makeTarget, meets, type TargetSpec } from './target.ts';

test.describe('bench targets', () => {
  test('an upper bound passes below and at the bound, fails above it', () => {
    const atMost: TargetSpec = { op: '<=', value: 5000 };
    expect(meets(atMost, 4999)).toBe(true);
    expect(meets(atMost, 5000)).toBe(true);
    expect(meets(atMost, 5000.001)).toBe(false);
  });

  test('a strict upper bound fails at the bound', () => {
    const below: TargetSpec = { op: '<', value: 1 };
    expect(meets(below, 0.999)).toBe(true);
    expect(meets(below, 1)).toBe(false);
    expect(meets(below, 1.5)).toBe(false);
  });

  test('a lower bound passes at and above the bound, fails below it', () => {
    const atLeast: TargetSpec = { op: '>=', value: 0.5 };
    expect(meets(atLeast, 0.5)).toBe(true);
    expect(meets(atLeast, 0.502)).toBe(true);
    expect(meets(atLeast, 0.487)).toBe(false);
    const above: TargetSpec = { op: '>', value: 100 };
    expect(meets(above, 100)).toBe(false);
    expect(meets(above, 101)).toBe(true);
  });

  test('a value that is no number is not judged: it throws instead of reading as a miss', () => {
    expect(() => meets({ op: '<=', value: 5000 }, Number.NaN)).toThrow(/cannot judge NaN against <= 5000/);
    expect(() => meets({ op: '>=', value: 1 }, Number.POSITIVE_INFINITY)).toThrow(/cannot judge Infinity/);
  });

  test('the full target carries the figure unit and a text derived from the bound', () => {
    expect(makeTarget('fleet_up_ms_50', { op: '<=', value: 5000 }, 'ms')).toEqual({
      op: '<=',
      value: 5000,
      unit: 'ms',
      text: '<= 5000 ms',
    });
  });

  test('a malformed target names the figure', () => {
    expect(() => makeTarget('x_ms', { op: '=<' as TargetSpec['op'], value: 1 }, 'ms')).toThrow(
      /bench figure x_ms: target op '=<'/,
    );
    expect(() => makeTarget('x_ms', { op: '<=', value: Number.NaN }, 'ms')).toThrow(
      /bench figure x_ms: target value must be a finite number/,
    );
  });
});
