/**
 * A download's checkpoint at the end of the artifact's header: the check runs once the file holds
 * the whole signed header and before a single payload byte is written after it, so an artifact
 * the robot would refuse (untrusted signature, another model, too large, an older version than
 * the deployment allows) costs its header, not its payload.
 */
import { open } from 'node:fs/promises';
import { ARTIFACT_MAGIC, ARTIFACT_PREAMBLE_BYTES, MAX_HEADER_BYTES } from '../../../protocol/artifact.ts';

export class HeaderGate {
  /** Where the header ends, once the preamble is on disk; the preamble's end before that. */
  #end = ARTIFACT_PREAMBLE_BYTES;
  #endKnown = false;
  #passed = false;

  /** `check` reads the header from the file; a throw ends the download with that error. */
  constructor(private readonly check: (path: string) => Promise<void>) {}

  /** True once the check has passed: the gate lets every byte through. */
  get passed(): boolean {
    return this.#passed;
  }

  /** How many bytes may be written at `at` before `reached` must be called again. */
  room(at: number): number {
    return this.#passed ? Number.POSITIVE_INFINITY : Math.max(0, this.#end - at);
  }

  /**
   * The file at `path` now holds `at` bytes: learns where the header ends once the preamble is
   * there, and runs the check once the header is. A preamble that cannot be a header's (wrong
   * magic, a length out of bounds) is checked at once: the check names what is wrong with it.
   */
  async reached(path: string, at: number): Promise<void> {
    if (this.#passed || at < this.#end) return;
    if (!this.#endKnown) {
      this.#endKnown = true;
      const preamble = await readPreamble(path);
      const length = preamble.readUInt32BE(ARTIFACT_MAGIC.length);
      const wellFormed =
        preamble.toString('latin1', 0, ARTIFACT_MAGIC.length) === ARTIFACT_MAGIC &&
        length > 0 &&
        length <= MAX_HEADER_BYTES;
      if (wellFormed) this.#end = ARTIFACT_PREAMBLE_BYTES + length;
      if (at < this.#end) return;
    }
    await this.check(path);
    this.#passed = true;
  }
}

async function readPreamble(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const preamble = Buffer.alloc(ARTIFACT_PREAMBLE_BYTES);
    await handle.read(preamble, 0, ARTIFACT_PREAMBLE_BYTES, 0);
    return preamble;
  } finally {
    await handle.close();
  }
}
