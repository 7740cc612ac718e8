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
 * source reuses: no fresh pages, no garbage; the decoder's Mat is then released at once unless `frameToMat`
 * lent it out), else into a fresh Buffer. Encoding, resizing and showing use the
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
  let pixels = bgr;
  /** Whether anyone took the Mat (`frameToMat`): then it stays as it is until V8 collects it. */
  let lent = false;
  const frame: MatFrame = {
    width,
    height,
    format: "bgr24",
    get bytes(): Uint8Array {
      if (bytes !== undefined) return bytes;
      if (into?.byteLength !== width * height * 3) return (bytes = bgr.getData());
      // Same size and type, so copyTo writes into the borrowed bytes instead of allocating its own.
      const over = new cv.Mat(height, width, cv.CV_8UC3, asBuffer(into));
      bgr.copyTo(over);
      bytes = into;
      if (!lent) {
        // Nobody holds the decoder's Mat: its memory goes back now (the next frame's decode reuses it, pages
        // already mapped), not when V8 collects the wrapper; the frame's Mat is now the one over `into`.
        pixels = over;
        bgr.release();
        if (mat !== bgr) mat.release();
      }
      return bytes;
    },
    captureTime: meta.captureTime ?? Date.now(),
    sequence: meta.sequence ?? 0,
    get [PIXELS](): Mat {
      lent = true;
      return pixels;
    },
  };
  return frame;
}

/**
 * Mats made by `frameToMat` borrow the frame's bytes without holding them: an async
 * OpenCV call must keep the frame reachable until it settles. Calling this after the
 * await does that.
 */
export function keepAlive(frame: Frame): void {
  if (frame.bytes.byteLength < 0) throw new Error("unreachable");
}
