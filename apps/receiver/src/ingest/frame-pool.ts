/**
 * Frame buffers handed back by the main thread once nothing there references them (see
 * delivery.ts), kept for the next frames of the same size. A raw 640x480 frame is 921,600 bytes:
 * a fresh buffer for each costs page faults and zeroing (measured: 0.8 ms a frame to complete one,
 * 0.05 ms into a reused one) and garbage for the main thread's collector.
 */

/** Spare buffers kept, at most this many... */
export const SPARE_FRAMES = 8;
/** ...and this many bytes in all (eight 1280x720 raw frames are 22 MB). */
export const SPARE_FRAME_BYTES = 32 << 20;

export class FramePool {
  readonly #spare: ArrayBuffer[] = [];
  #bytes = 0;

  constructor(
    private readonly maxFrames = SPARE_FRAMES,
    private readonly maxBytes = SPARE_FRAME_BYTES,
  ) {}

  /** A buffer of exactly `byteLength` bytes: a spare one (old contents), or a new one. */
  take(byteLength: number): Uint8Array<ArrayBuffer> {
    const spare = this.#spare;
    for (let i = spare.length - 1; i >= 0; i--) {
      const buffer = spare[i]!;
      if (buffer.byteLength !== byteLength) continue;
      spare.splice(i, 1);
      this.#bytes -= byteLength;
      return new Uint8Array(buffer);
    }
    return new Uint8Array(byteLength);
  }

  /** Keeps a buffer handed back, the oldest spare going when the pool is full. A detached or empty one is ignored. */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength === 0 || buffer.byteLength > this.maxBytes) return;
    this.#spare.push(buffer);
    this.#bytes += buffer.byteLength;
    while (this.#spare.length > this.maxFrames || this.#bytes > this.maxBytes)
      this.#bytes -= this.#spare.shift()!.byteLength;
  }

  get spareFrames(): number {
    return this.#spare.length;
  }

  get spareBytes(): number {
    return this.#bytes;
  }
}
