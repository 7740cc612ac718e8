/** Frame <-> Mat, with as few copies as the binding allows. Internal to the package. */
import { VideoError } from "./errors.js";
import { assertFrame, createFrame, type Frame, type FrameMeta } from "./frame.js";
import { cv, type Mat } from "./opencv.js";

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * A Mat over the frame's own bytes (no copy). The Mat does not keep the bytes
 * alive: the caller must hold the frame until OpenCV is done with the Mat.
 */
export function frameToMat(frame: Frame): Mat {
  assertFrame(frame);
  return new cv.Mat(frame.height, frame.width, cv.CV_8UC3, asBuffer(frame.bytes));
}

/** Copies a Mat's pixels out once into a new frame, converting gray or BGRA to bgr24. */
export function matToFrame(mat: Mat, meta: FrameMeta = {}): Frame {
  let bgr = mat;
  if (mat.type !== cv.CV_8UC3) {
    if (mat.type === cv.CV_8UC1) bgr = mat.cvtColor(cv.COLOR_GRAY2BGR);
    else if (mat.type === cv.CV_8UC4) bgr = mat.cvtColor(cv.COLOR_BGRA2BGR);
    else throw new VideoError("INVALID_FRAME", `unsupported OpenCV image type ${mat.type} (want 8-bit BGR)`);
  }
  return createFrame(bgr.getData(), bgr.cols, bgr.rows, meta);
}

/**
 * Mats made by `frameToMat` borrow the frame's bytes without holding them: an async
 * OpenCV call must keep the frame reachable until it settles. Calling this after the
 * await does that.
 */
export function keepAlive(frame: Frame): void {
  if (frame.bytes.byteLength < 0) throw new Error("unreachable");
}
