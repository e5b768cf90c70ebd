import { z } from 'zod';
import { count, type ToxicType } from './types.ts';

/** Lets `bytes` bytes through on the connection, then closes it. */
export const limitData: ToxicType<{ bytes: number }> = {
  type: 'limit_data',
  attributes: z.object({ bytes: count() }),
  async pipe(stub, { bytes }) {
    // The count survives updates: raising the limit lets the rest through, lowering it closes.
    if (stub.bytesWritten >= bytes) return stub.close();
    for (;;) {
      const input = await stub.read();
      if (input.kind === 'interrupt') return;
      if (input.kind === 'end') return stub.end();
      if (input.kind !== 'data') continue;
      const left = bytes - stub.bytesWritten;
      if (input.data.length < left) {
        stub.write(input.data);
        continue;
      }
      stub.write(input.data.subarray(0, left));
      return stub.close();
    }
  },
};
