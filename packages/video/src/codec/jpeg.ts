/**
 * JPEG (quality 1-100) for frames. The raw codec is `createFrame` (bytes in) and
 * `frame.bytes` (bytes out): no copy either way.
 */
import { describeCause, VideoError } from "../errors.js";
import { assertFrame, type Frame, type FrameMeta } from "../frame.js";
import { frameToMat, holdsMat, keepAlive, matToFrame } from "../mat.js";
import { cv, type Mat } from "../opencv.js";
import { jpegAddon } from "./jpeg-addon.js";

export const DEFAULT_JPEG_QUALITY = 80;

function checkQuality(quality: number): void {
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new VideoError("INVALID_OPTION", `JPEG quality must be an integer from 1 to 100, got ${quality}`);
  }
}

function jpegParams(quality: number): number[] {
  checkQuality(quality);
  return [cv.IMWRITE_JPEG_QUALITY, quality];
}

/** Encodes a frame as a baseline JPEG. The result is a Buffer (a Uint8Array). */
export function encodeJpeg(frame: Frame, quality = DEFAULT_JPEG_QUALITY): Uint8Array {
  return cv.imencode(".jpg", frameToMat(frame), jpegParams(quality));
}

/**
 * `encodeJpeg` on libuv's thread pool, so the event loop keeps running. A frame whose pixels are in JavaScript
 * memory (the test pattern, a raw frame) is encoded by the package's libjpeg addon, with OpenCV's settings and
 * the same bytes out, so a process that only encodes such frames never loads OpenCV (some 85 MB of libraries);
 * one whose pixels are still in a Mat (a capture's) by OpenCV.
 */
export async function encodeJpegAsync(frame: Frame, quality = DEFAULT_JPEG_QUALITY): Promise<Uint8Array> {
  if (!holdsMat(frame)) {
    checkQuality(quality);
    assertFrame(frame);
    const { bytes } = frame;
    const pixels = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return jpegAddon().encodeBgr(pixels, frame.width, frame.height, quality);
  }
  const params = jpegParams(quality);
  const encoded = await cv.imencodeAsync(".jpg", frameToMat(frame), params);
  keepAlive(frame);
  return encoded;
}

function jpegInput(bytes: Uint8Array): Buffer {
  // OpenCV aborts the process (not an exception) on an empty buffer: check first.
  if (bytes.byteLength < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) {
    throw new VideoError("JPEG_INVALID", `not a JPEG: ${bytes.byteLength} bytes without the FF D8 start marker`);
  }
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function decodedFrame(mat: Mat, byteLength: number, meta: FrameMeta): Frame {
  if (mat.empty)
    throw new VideoError("JPEG_INVALID", `JPEG of ${byteLength} bytes does not decode (truncated or corrupt)`);
  return matToFrame(mat, meta);
}

/** Decodes a JPEG into a bgr24 frame. Throws `VideoError` `JPEG_INVALID`. */
export function decodeJpeg(bytes: Uint8Array, meta: FrameMeta = {}): Frame {
  const input = jpegInput(bytes);
  let mat: Mat;
  try {
    mat = cv.imdecode(input, cv.IMREAD_COLOR);
  } catch (cause) {
    throw new VideoError("JPEG_INVALID", `JPEG does not decode: ${describeCause(cause)}`, { cause });
  }
  return decodedFrame(mat, bytes.byteLength, meta);
}

/** `decodeJpeg` on libuv's thread pool. */
export async function decodeJpegAsync(bytes: Uint8Array, meta: FrameMeta = {}): Promise<Frame> {
  const input = jpegInput(bytes);
  let mat: Mat;
  try {
    mat = await cv.imdecodeAsync(input, cv.IMREAD_COLOR);
  } catch (cause) {
    throw new VideoError("JPEG_INVALID", `JPEG does not decode: ${describeCause(cause)}`, { cause });
  }
  return decodedFrame(mat, bytes.byteLength, meta);
}
