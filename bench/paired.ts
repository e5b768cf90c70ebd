/**
 * Two measurements that two figures compare (plaintext and TLS ingest): taken back to back in each
 * run, so both saw the same moment of a shared machine, and read by both figures from one pair.
 */

/** Both outcomes of one run, each kept apart so a failure of one is not its partner's. */
export interface PairedOutcomes<A, B> {
  a: PromiseSettledResult<A>;
  b: PromiseSettledResult<B>;
}

async function settled<T>(measure: () => Promise<T>): Promise<PromiseSettledResult<T>> {
  try {
    return { status: 'fulfilled', value: await measure() };
  } catch (reason) {
    return { status: 'rejected', reason };
  }
}

/**
 * Measures `a` and `b` one after the other, once per run however many figures ask: `a` first in
 * even runs and `b` first in odd ones, so that neither always inherits the other's heap, page
 * cache or the machine's drift.
 */
export function pairedPerRun<A, B>(
  a: (run: number) => Promise<A>,
  b: (run: number) => Promise<B>,
): (run: number) => Promise<PairedOutcomes<A, B>> {
  const runs = new Map<number, Promise<PairedOutcomes<A, B>>>();
  const measure = async (run: number): Promise<PairedOutcomes<A, B>> => {
    if (run % 2 === 0) {
      const first = await settled(() => a(run));
      return { a: first, b: await settled(() => b(run)) };
    }
    const first = await settled(() => b(run));
    return { a: await settled(() => a(run)), b: first };
  };
  return (run) => {
    let pair = runs.get(run);
    if (!pair) {
      pair = measure(run);
      runs.set(run, pair);
    }
    return pair;
  };
}

/** An outcome's value, or its error thrown for the figure that reads it. */
export function valueOf<T>(outcome: PromiseSettledResult<T>): T {
  if (outcome.status === 'rejected') throw outcome.reason;
  return outcome.value;
}
