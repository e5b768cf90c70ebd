import { expect, test } from '@playwright/test';
import { pairedPerRun, valueOf } from './paired.ts';

/** A measurer that logs when it runs, and fails on the runs listed. */
function measurer(name: string, calls: string[], failOn: number[] = []) {
  return async (run: number): Promise<string> => {
    calls.push(`${name}${run}`);
    await Promise.resolve();
    if (failOn.includes(run)) throw new Error(`${name} could not be measured in run ${run}`);
    return `${name} of run ${run}`;
  };
}

test.describe('pairedPerRun', () => {
  test('measures both once per run, one after the other, alternating which goes first', async () => {
    const calls: string[] = [];
    const pair = pairedPerRun(measurer('a', calls), measurer('b', calls));
    for (const run of [0, 1, 2]) {
      // Both figures of a run read the same pair.
      const [first, second] = await Promise.all([pair(run), pair(run)]);
      expect(first).toBe(second);
      expect(valueOf(first.a)).toBe(`a of run ${run}`);
      expect(valueOf(first.b)).toBe(`b of run ${run}`);
    }
    expect(calls).toEqual(['a0', 'b0', 'b1', 'a1', 'a2', 'b2']);
  });

  test('does not start the second before the first has settled', async () => {
    const events: string[] = [];
    const slow = async (): Promise<number> => {
      events.push('a start');
      await new Promise((resolve) => setTimeout(resolve, 20));
      events.push('a end');
      return 1;
    };
    const quick = (): Promise<number> => {
      events.push('b start');
      return Promise.resolve(2);
    };
    await pairedPerRun(slow, quick)(0);
    expect(events).toEqual(['a start', 'a end', 'b start']);
  });

  test('keeps a failure to its own figure: the partner is still measured and read', async () => {
    const calls: string[] = [];
    const pair = pairedPerRun(measurer('a', calls, [0]), measurer('b', calls, [1]));
    const run0 = await pair(0);
    expect(() => valueOf(run0.a)).toThrow('a could not be measured in run 0');
    expect(valueOf(run0.b)).toBe('b of run 0');
    const run1 = await pair(1);
    expect(valueOf(run1.a)).toBe('a of run 1');
    expect(() => valueOf(run1.b)).toThrow('b could not be measured in run 1');
    expect(calls).toEqual(['a0', 'b0', 'b1', 'a1']);
  });
});
