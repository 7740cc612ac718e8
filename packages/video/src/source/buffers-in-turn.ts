/** Pixel buffers a source hands out in turn (`TestPatternOptions.reuseBuffers`), instead of a fresh one a frame. */
import { VideoError } from "../errors.js";

export class BuffersInTurn {
  readonly #buffers: Uint8Array[];

  /**
   * `count` buffers of `byteLength` bytes (at least 2; undefined: none, a fresh buffer each frame). `first`, when
   * given, is the first of them (a buffer the source made already). Throws `INVALID_OPTION` for a bad count.
   */
  constructor(count: number | undefined, byteLength: number, first?: Uint8Array) {
    if (count !== undefined && !(Number.isInteger(count) && count >= 2))
      throw new VideoError("INVALID_OPTION", `reuseBuffers must be an integer >= 2, got ${count}`);
    this.#buffers = Array.from({ length: count ?? 0 }, (_, i) =>
      i === 0 && first !== undefined ? first : Buffer.allocUnsafe(byteLength),
    );
  }

  /** The buffer for frame `n`: buffer n % count, or undefined when there are none. */
  for(n: number): Uint8Array | undefined {
    const buffers = this.#buffers;
    return buffers.length === 0 ? undefined : buffers[n % buffers.length];
  }
}
