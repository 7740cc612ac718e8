/**
 * Frame buffers handed back by the main thread once nothing there references them (see
 * delivery.ts), kept for the next frames. A raw 640x480 frame is 921,600 bytes: a fresh buffer
 * for each costs page faults and zeroing (measured: 0.8 ms a frame to complete one, 0.05 ms into
 * a reused one). A JPEG frame is small, but a fresh buffer for each is garbage the main thread
 * frees only at its next full collection: V8 lets such external memory pile up to tens of MB
 * before it collects, so a receiver recording JPEG grew from 65 to 178 MB resident in its first
 * three minutes (measured 2026-12-02) where buffers came back here.
 */

/** Spare buffers kept, at most this many... */
export const SPARE_FRAMES = 8;
/** ...and this many bytes in all (eight 1280x720 raw frames are 22 MB). */
export const SPARE_FRAME_BYTES = 32 << 20;
/** Room a new buffer gets above its first frame, so that the next frames of a JPEG stream, each a little larger or smaller, fit it. */
const HEADROOM_SHARE = 1 / 4;
const MAX_HEADROOM_BYTES = 256 << 10;
const PAGE_BYTES = 4096;

export class FramePool {
  readonly #spare: ArrayBuffer[] = [];
  #bytes = 0;
  /** Buffers this pool made: a frame in one of them may be transferred whole, whatever its length. */
  readonly #made = new WeakSet<ArrayBuffer>();

  constructor(
    private readonly maxFrames = SPARE_FRAMES,
    private readonly maxBytes = SPARE_FRAME_BYTES,
  ) {}

  /**
   * `byteLength` bytes at the start of a spare buffer (old contents) that holds them without
   * wasting more than their size again, or of a new buffer with headroom.
   */
  take(byteLength: number): Uint8Array<ArrayBuffer> {
    const spare = this.#spare;
    for (let i = spare.length - 1; i >= 0; i--) {
      const buffer = spare[i]!;
      if (buffer.byteLength < byteLength || buffer.byteLength > 2 * byteLength) continue;
      spare.splice(i, 1);
      this.#bytes -= buffer.byteLength;
      return new Uint8Array(buffer, 0, byteLength);
    }
    const headroom = Math.min(Math.ceil(byteLength * HEADROOM_SHARE), MAX_HEADROOM_BYTES);
    const buffer = new ArrayBuffer(Math.ceil((byteLength + headroom) / PAGE_BYTES) * PAGE_BYTES);
    this.#made.add(buffer);
    return new Uint8Array(buffer, 0, byteLength);
  }

  /** Whether `buffer` came from `take`: the frame written into it owns it, headroom included. */
  made(buffer: ArrayBufferLike): boolean {
    return buffer instanceof ArrayBuffer && this.#made.has(buffer);
  }

  /** Keeps a buffer handed back, the oldest spare going when the pool is full. A detached or empty one is ignored. */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength === 0 || buffer.byteLength > this.maxBytes) return;
    this.#made.add(buffer);
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
