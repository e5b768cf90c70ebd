import { z } from 'zod';
import { count, type ToxicType } from './types.ts';

/**
 * Cuts chunks into writes of `average_size` ± `size_variation` bytes, `delay` µs apart. An
 * `average_size` of 0 passes chunks whole.
 */
export const slicer: ToxicType<{ average_size: number; size_variation: number; delay: number }> = {
  type: 'slicer',
  attributes: z.object({ average_size: count(), size_variation: count(), delay: count() }),
  async pipe(stub, { average_size: average, size_variation: variation, delay }) {
    for (;;) {
      const input = await stub.read();
      if (input.kind === 'interrupt') return;
      if (input.kind === 'end') return stub.end();
      if (input.kind !== 'data') continue;
      const { data } = input;
      if (average <= 0) {
        stub.write(data);
        continue;
      }
      // Delays are scheduled, not slept one by one, so sub-millisecond gaps add up right.
      let next = stub.now();
      for (let offset = 0; offset < data.length;) {
        const size = Math.max(1, average + Math.round((stub.random() * 2 - 1) * variation));
        stub.write(data.subarray(offset, offset + size));
        offset += size;
        if (delay > 0 && offset < data.length) {
          next += delay / 1000;
          if (!(await stub.sleepUntil(next))) {
            stub.write(data.subarray(offset));
            break;
          }
        }
      }
    }
  },
};
