import type { Measured } from './runner.ts';

/**
 * The largest value in `candidates` for which `passes` holds, scanning upwards. A point that
 * cannot even come up fails that point and ends the scan; but when the first point cannot be
 * tried the figure is unknown, not 0, and the error is the figure's.
 */
export async function largestPassing(
  candidates: readonly number[],
  passes: (value: number) => Promise<boolean>,
  log: (line: string) => void,
): Promise<Measured> {
  let best: number | undefined;
  for (const value of candidates) {
    let ok: boolean;
    try {
      ok = await passes(value);
    } catch (error) {
      if (best === undefined) throw error;
      log(`  ${value}: ${(error as Error).message}`);
      return { value: best, note: `${value} could not be tried: ${(error as Error).message}` };
    }
    if (!ok) return best ?? 0;
    best = value;
  }
  return { value: best ?? 0, note: 'the largest value tried' };
}
