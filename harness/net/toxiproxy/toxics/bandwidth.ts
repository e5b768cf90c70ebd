import { z } from 'zod';
import { signedCount, type ToxicType } from './types.ts';

/** Paces data to `rate` KB/s (1 KB = 1000 B); a rate <= 0 lets everything through. */
export const bandwidth: ToxicType<{ rate: number }> = {
  type: 'bandwidth',
  attributes: z.object({ rate: signedCount() }),
  async pipe(stub, { rate }) {
    // KB/s is bytes per ms. Large chunks go out in 100 ms slices so pacing stays smooth.
    const slice = Math.max(1, rate * 100);
    let next = stub.now();
    for (;;) {
      const input = await stub.read();
      if (input.kind === 'interrupt') return;
      if (input.kind === 'end') return stub.end();
      if (input.kind !== 'data') continue;
      if (rate <= 0) {
        stub.write(input.data);
        continue;
      }
      const { data } = input;
      for (let offset = 0; offset < data.length; offset += slice) {
        // No credit for idle time: a burst after a pause is paced like any other.
        next = Math.max(next, stub.now());
        if (!(await stub.sleepUntil(next))) {
          stub.write(data.subarray(offset));
          break;
        }
        const piece = data.subarray(offset, offset + slice);
        stub.write(piece);
        next += piece.length / rate;
      }
    }
  },
};
