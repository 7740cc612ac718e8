import { VideoError } from "../errors.js";
import type { Frame } from "../frame.js";

/**
 * Peak signal-to-noise ratio of b against a, in dB, over all bytes. Infinity for
 * identical frames. Typical: > 40 dB near lossless, 30-40 dB good JPEG, < 20 dB
 * a different picture.
 */
export function psnr(a: Frame, b: Frame): number {
  if (a.width !== b.width || a.height !== b.height) {
    throw new VideoError("FRAME_SIZE_MISMATCH", `cannot compare ${a.width}x${a.height} with ${b.width}x${b.height}`);
  }
  const x = a.bytes;
  const y = b.bytes;
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    sum += d * d;
  }
  if (sum === 0) return Infinity;
  const mse = sum / x.length;
  return 10 * Math.log10((255 * 255) / mse);
}
