import type { Codec } from "./codec.js";

/** What every v1 datagram says about its frame, and what a receiver reports with it. */
export interface FrameMetadata {
  /** u32, random per sender run. */
  readonly streamId: number;
  /** u32, +1 per frame, wraps (compare with serial.ts). */
  readonly frameNumber: number;
  readonly codec: Codec;
  /** Pixels, 1..65535. */
  readonly width: number;
  readonly height: number;
  /** Frames per second (0 = unknown); carried with 0.001 resolution. */
  readonly fps: number;
  /** The sender's capture time, ms since the Unix epoch; carried with µs resolution. */
  readonly timestampMs: number;
}
