import { z } from 'zod';
import { count, type ToxicType } from './types.ts';

/** Holds the end of the stream back for `delay` ms; data passes untouched. */
export const slowClose: ToxicType<{ delay: number }> = {
  type: 'slow_close',
  attributes: z.object({ delay: count() }),
  async pipe(stub, { delay }) {
    for (;;) {
      const input = await stub.read();
      if (input.kind === 'interrupt') return;
      if (input.kind === 'data') stub.write(input.data);
      if (input.kind === 'end') {
        await stub.sleepUntil(stub.now() + delay);
        return stub.end();
      }
    }
  },
};
