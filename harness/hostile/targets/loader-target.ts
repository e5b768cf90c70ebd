import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brokenDocuments, type BrokenDocument } from '../hostile-json.ts';
import { judgeLoaderError } from '../oracles.ts';
import type { FuzzTarget } from '../runner.ts';
import { OracleViolation } from '../violation.ts';

/** A file loader to fuzz, and the valid file its inputs are made from. */
export interface LoaderSpec {
  /** The target's name: `world-file`. */
  name: string;
  /** What each input is written as, so the error can be checked for naming it: `world.json`. */
  fileName: string;
  /** The valid document, as a value. */
  valid(): unknown;
  /** How a document is written; JSON by default. */
  encode?: (value: unknown) => string;
  /** The loader, reading the path it is given. */
  load(path: string): unknown;
  /** The loader's own error classes: any other failure is a crash. */
  expected: ReadonlyArray<abstract new (...args: never[]) => Error>;
}

/**
 * A file loader fed documents one field from valid and garbage, each written to a temp file: it
 * must load it or refuse it with its own error naming the file and the broken field. There is no
 * stored data; the check is that the valid file still loads afterwards.
 */
export function loaderTarget(spec: LoaderSpec): FuzzTarget<BrokenDocument> {
  return {
    name: spec.name,
    async start() {
      const dir = await mkdtemp(join(tmpdir(), `fleetdrill-fuzz-${spec.name}-`));
      const path = join(dir, spec.fileName);
      const encode = spec.encode ?? ((value: unknown) => JSON.stringify(value, null, 2));
      const valid = spec.valid();
      const load = async (text: string): Promise<void> => {
        await writeFile(path, text);
        await spec.load(path);
      };
      const stop = () => rm(dir, { recursive: true, force: true });
      return {
        inputs: brokenDocuments(valid, encode),
        async send(doc) {
          try {
            await load(doc.text);
            return 'accepted';
          } catch (error) {
            return judgeLoaderError(error, {
              source: spec.fileName,
              names: [spec.fileName],
              expected: spec.expected,
              ...(doc.fields ? { fields: doc.fields } : {}),
            });
          }
        },
        async check() {
          try {
            await load(encode(valid));
          } catch (error) {
            throw new OracleViolation(
              `${spec.fileName}: the valid file no longer loads: ${(error as Error).message}`,
            );
          }
        },
        stop,
        [Symbol.asyncDispose]: stop,
      };
    },
  };
}
