import { inspectBlackbox, McapInvalidError } from '../../telemetry/index.ts';
import { almostValid, sampleBlackbox, type AlmostBytes } from '../almost.ts';
import { judgeLoaderError } from '../oracles.ts';
import type { FuzzTarget } from '../runner.ts';
import { OracleViolation } from '../violation.ts';

/**
 * The harness's blackbox check (harness/telemetry inspectBlackbox, what telemetry oracles open
 * uploaded MCAP files with) fed bytes that are almost MCAP: truncated, bad magic, record lengths
 * pointing past the end, flipped bytes. It must read the file or refuse it with McapInvalidError,
 * never throw a RangeError or TypeError from inside the reader.
 */
export const blackboxFileTarget: FuzzTarget<AlmostBytes> = {
  name: 'blackbox-file',
  async start() {
    const valid = await sampleBlackbox('fz-robot');
    const stop = () => Promise.resolve();
    return {
      inputs: almostValid(valid),
      async send(input) {
        try {
          await inspectBlackbox(input.bytes);
          return 'accepted';
        } catch (error) {
          return judgeLoaderError(error, {
            source: `blackbox (${input.how})`,
            names: [],
            expected: [McapInvalidError],
          });
        }
      },
      async check() {
        await inspectBlackbox(valid).catch((error: Error) => {
          throw new OracleViolation(`the valid blackbox no longer reads: ${error.message}`);
        });
      },
      stop,
      [Symbol.asyncDispose]: stop,
    };
  },
};
