import { VideoError } from "./errors.js";

/** The only pixel format: 3 bytes a pixel in the order blue, green, red (OpenCV's default). */
export type PixelFormat = "bgr24";

export const BYTES_PER_PIXEL = 3;

/**
 * One video frame, shared by sources, codecs, the recorder and the display.
 * Treat it as immutable: `bytes` may be shared (no copies are made on the way
 * to OpenCV), so a producer hands out a fresh buffer for every frame.
 */
export interface Frame {
  readonly width: number;
  readonly height: number;
  readonly format: PixelFormat;
  /** Row-major pixels, no padding: `width * height * 3` bytes. */
  readonly bytes: Uint8Array;
  /** Wall-clock time of capture (or generation), milliseconds since the epoch. */
  readonly captureTime: number;
  /** Sequence number given by the source: 0, 1, 2, ... */
  readonly sequence: number;
}

/** What a frame carries besides its pixels. */
export interface FrameMeta {
  readonly captureTime?: number;
  readonly sequence?: number;
}

export function frameByteLength(width: number, height: number): number {
  return width * height * BYTES_PER_PIXEL;
}

/**
 * Wraps raw bgr24 bytes (no copy) as a frame, after checking the size:
 * the raw pass-through codec. Throws `VideoError` `INVALID_FRAME`.
 */
export function createFrame(bytes: Uint8Array, width: number, height: number, meta: FrameMeta = {}): Frame {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new VideoError("INVALID_FRAME", `frame size must be positive integers, got ${width}x${height}`);
  }
  const expected = frameByteLength(width, height);
  if (bytes.byteLength !== expected) {
    throw new VideoError(
      "INVALID_FRAME",
      `a ${width}x${height} bgr24 frame has ${expected} bytes, got ${bytes.byteLength}`,
    );
  }
  return {
    width,
    height,
    format: "bgr24",
    bytes,
    captureTime: meta.captureTime ?? Date.now(),
    sequence: meta.sequence ?? 0,
  };
}

/** Checks a frame that came from outside (an app, a decoder). Throws `VideoError` `INVALID_FRAME`. */
export function assertFrame(frame: Frame): void {
  if (frame.format !== "bgr24") {
    throw new VideoError("INVALID_FRAME", `pixel format must be bgr24, got ${String(frame.format)}`);
  }
  createFrame(frame.bytes, frame.width, frame.height);
}
