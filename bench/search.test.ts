import { expect, test } from '@playwright/test';
import { largestPassing } from './search.ts';

const quiet = (): void => undefined;

/** A `passes` that holds up to `limit`, throws at `broken`, and records what it was asked. */
function upTo(
  limit: number,
  broken?: number,
): { tried: number[]; passes: (value: number) => Promise<boolean> } {
  const tried: number[] = [];
  return {
    tried,
    passes: (value) => {
      tried.push(value);
      if (value === broken) return Promise.reject(new Error(`robot r07 not ready at ${value}`));
      return Promise.resolve(value <= limit);
    },
  };
}

test.describe('largestPassing', () => {
  test('stops at the first value that fails and returns the one before it', async () => {
    const search = upTo(60);
    expect(await largestPassing([25, 50, 75, 100], search.passes, quiet)).toBe(50);
    expect(search.tried).toEqual([25, 50, 75]);
  });

  test('is 0 when the first value fails', async () => {
    expect(await largestPassing([25, 50], upTo(10).passes, quiet)).toBe(0);
  });

  test('says so when even the largest value tried passed', async () => {
    expect(await largestPassing([25, 50], upTo(1_000).passes, quiet)).toEqual({
      value: 50,
      note: 'the largest value tried',
    });
  });

  test('a value that cannot be tried ends the scan with the last that passed, and why', async () => {
    const lines: string[] = [];
    const search = upTo(1_000, 75);
    expect(await largestPassing([25, 50, 75, 100], search.passes, (line) => lines.push(line))).toEqual({
      value: 50,
      note: '75 could not be tried: robot r07 not ready at 75',
    });
    expect(search.tried).toEqual([25, 50, 75]);
    expect(lines).toEqual(['  75: robot r07 not ready at 75']);
  });

  test('when the first value cannot be tried the figure is unknown: the error is rethrown', async () => {
    await expect(largestPassing([25, 50], upTo(1_000, 25).passes, quiet)).rejects.toThrow(
      'robot r07 not ready at 25',
    );
  });
});
