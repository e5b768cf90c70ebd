import { z } from 'zod';
import { count, type ToxicType } from './types.ts';

/**
 * Drops every chunk and closes the connection after `timeout` ms. With 0 the connection stays
 * open and black-holed until the toxic goes: a TCP dead zone.
 */
export const timeout: ToxicType<{ timeout: number }> = {
  type: 'timeout',
  attributes: z.object({ timeout: count() }),
  async pipe(stub, { timeout }) {
    const deadline = timeout > 0 ? stub.now() + timeout : undefined;
    for (;;) {
      const input = await stub.read(deadline);
      if (input.kind === 'interrupt') return;
      if (input.kind === 'deadline') return stub.close();
      if (input.kind === 'end') {
        // The sender is gone; say so, then still close on time if the other way lingers.
        stub.end();
        if (deadline !== undefined && (await stub.sleepUntil(deadline))) stub.close();
        return;
      }
      // Data is dropped on the floor: that is this toxic's whole point.
    }
  },
};
