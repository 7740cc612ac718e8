/** Frame <-> Mat, with as few copies as the binding allows. Internal to the package. */
import { VideoError } from "./errors.js";
import { assertFrame, type Frame, type FrameMeta } from "./frame.js";
import { cv, type Mat } from "./opencv.js";

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The Mat a frame made by `matToFrame` holds its pixels in. */
const PIXELS = Symbol("udpcam.mat");

interface MatFrame extends Frame {
  readonly [PIXELS]: Mat;
}

function heldMat(frame: Frame): Mat | undefined {
  return (frame as Partial<MatFrame>)[PIXELS];
}

/** Whether the frame's pixels are in a Mat (`matToFrame`: a capture's, a decoded JPEG's), not in JavaScript memory. */
export function holdsMat(frame: Frame): boolean {
  return heldMat(frame) !== undefined;
}

/**
 * A Mat over the frame's pixels, with no copy: the Mat the frame came from (`matToFrame`), or one over its
 * bytes. The latter does not keep the bytes alive: the caller must hold the frame until OpenCV is done with it.
 */
export function frameToMat(frame: Frame): Mat {
  const held = heldMat(frame);
  if (held !== undefined) return held;
  assertFrame(frame);
  return new cv.Mat(frame.height, frame.width, cv.CV_8UC3, asBuffer(frame.bytes));
}

/**
 * A frame whose pixels stay in the Mat (converted to bgr24 from gray or BGRA) until something asks for
 * `bytes`, which copies them out once: into `into` when it is given and of the frame's size (a buffer the
 * source reuses: no fresh pages, no garbage), else into a fresh Buffer. Encoding, resizing and showing use the
 * Mat itself: a frame that only goes to JPEG is never copied into JavaScript memory (a 1280x720 frame is
 * 2.7 MB: the copy, its fresh pages and its garbage were a third of the sender's CPU re-encoding a clip).
 */
export function matToFrame(mat: Mat, meta: FrameMeta = {}, into?: Uint8Array): Frame {
  let bgr = mat;
  if (mat.type !== cv.CV_8UC3) {
    if (mat.type === cv.CV_8UC1) bgr = mat.cvtColor(cv.COLOR_GRAY2BGR);
    else if (mat.type === cv.CV_8UC4) bgr = mat.cvtColor(cv.COLOR_BGRA2BGR);
    else throw new VideoError("INVALID_FRAME", `unsupported OpenCV image type ${mat.type} (want 8-bit BGR)`);
  }
  const { cols: width, rows: height } = bgr;
  if (width <= 0 || height <= 0) {
    throw new VideoError("INVALID_FRAME", `frame size must be positive integers, got ${width}x${height}`);
  }
  let bytes: Uint8Array | undefined;
  const frame: MatFrame = {
    width,
    height,
    format: "bgr24",
    get bytes(): Uint8Array {
      return (bytes ??= into?.byteLength === width * height * 3 ? copyInto(bgr, into) : bgr.getData());
    },
    captureTime: meta.captureTime ?? Date.now(),
    sequence: meta.sequence ?? 0,
    [PIXELS]: bgr,
  };
  return frame;
}

/** Copies a CV_8UC3 Mat's pixels into `into` (exactly their size): OpenCV writes through a Mat over its bytes. */
function copyInto(bgr: Mat, into: Uint8Array): Uint8Array {
  // Same size and type, so copyTo writes into the borrowed bytes instead of allocating its own.
  bgr.copyTo(new cv.Mat(bgr.rows, bgr.cols, cv.CV_8UC3, asBuffer(into)));
  return into;
}

/**
 * Mats made by `frameToMat` borrow the frame's bytes without holding them: an async
 * OpenCV call must keep the frame reachable until it settles. Calling this after the
 * await does that.
 */
export function keepAlive(frame: Frame): void {
  if (frame.bytes.byteLength < 0) throw new Error("unreachable");
}
