import { z } from 'zod';
import { count, type ToxicType } from './types.ts';

/** Resets the connection (TCP RST) at once or `timeout` ms after the toxic starts on it. */
export const resetPeer: ToxicType<{ timeout: number }> = {
  type: 'reset_peer',
  attributes: z.object({ timeout: count() }),
  async pipe(stub, { timeout }) {
    const deadline = stub.now() + timeout;
    for (;;) {
      const input = await stub.read(deadline);
      if (input.kind === 'interrupt') return;
      if (input.kind === 'deadline') return stub.reset();
      if (input.kind === 'data') stub.write(input.data);
      if (input.kind === 'end') {
        stub.end();
        if (await stub.sleepUntil(deadline)) stub.reset();
        return;
      }
    }
  },
};
