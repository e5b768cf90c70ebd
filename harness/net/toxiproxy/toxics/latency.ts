import { z } from 'zod';
import { count, type ToxicType } from './types.ts';

/** Delays every chunk by `latency` ± uniform `jitter` ms, counted from the chunk's arrival. */
export const latency: ToxicType<{ latency: number; jitter: number }> = {
  type: 'latency',
  attributes: z.object({ latency: count(), jitter: count() }),
  async pipe(stub, { latency, jitter }) {
    for (;;) {
      const input = await stub.read();
      if (input.kind === 'interrupt') return;
      if (input.kind === 'end') return stub.end();
      if (input.kind !== 'data') continue;
      const delay = latency + (jitter > 0 ? (stub.random() * 2 - 1) * jitter : 0);
      // Chunks go out in order: a short delay never overtakes a long one before it. When
      // interrupted, the chunk goes out at once; the next read then returns `interrupt`.
      await stub.sleepUntil(input.arrivedAt + Math.max(0, delay));
      stub.write(input.data);
    }
  },
};
