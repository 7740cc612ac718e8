/** Scaling frames. */
import { VideoError } from "../errors.js";
import type { Frame } from "../frame.js";
import { frameToMat, keepAlive, matToFrame } from "../mat.js";
import { cv } from "../opencv.js";

function checkSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new VideoError("INVALID_OPTION", `target size must be positive integers, got ${width}x${height}`);
  }
}

/** Area averaging when shrinking (no aliasing), bilinear when growing. */
export function resizeInterpolation(
  from: { readonly width: number; readonly height: number },
  width: number,
  height: number,
): number {
  return width < from.width && height < from.height ? cv.INTER_AREA : cv.INTER_LINEAR;
}

/** Scales a frame to width x height; the same frame back when it already has that size. Keeps time and sequence. */
export function resizeFrame(frame: Frame, width: number, height: number): Frame {
  checkSize(width, height);
  if (frame.width === width && frame.height === height) return frame;
  const resized = frameToMat(frame).resize(height, width, 0, 0, resizeInterpolation(frame, width, height));
  return matToFrame(resized, frame);
}

/** `resizeFrame` on libuv's thread pool. */
export async function resizeFrameAsync(frame: Frame, width: number, height: number): Promise<Frame> {
  checkSize(width, height);
  if (frame.width === width && frame.height === height) return frame;
  const resized = await frameToMat(frame).resizeAsync(height, width, 0, 0, resizeInterpolation(frame, width, height));
  keepAlive(frame);
  return matToFrame(resized, frame);
}
