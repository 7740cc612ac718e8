/** Opening a URL or file with OpenCV's FFmpeg backend, bounded in time, optionally in raw (packet) mode. */
import { describeCause, VideoError } from "../errors.js";
import { cv } from "../opencv.js";
import { startsWithSoi } from "./jpeg-frame.js";
import { redactUrl } from "./url.js";

export type Capture = InstanceType<typeof cv.VideoCapture>;

const OPTIONS_VARIABLE = "OPENCV_FFMPEG_CAPTURE_OPTIONS";

/**
 * The binding takes no open parameters (CAP_PROP_OPEN_TIMEOUT_MSEC), so the bound is FFmpeg's
 * own socket timeout, given through the variable OpenCV reads at every open. RTSP over TCP as
 * OpenCV does by default. A value the user set in the environment is left as it is.
 */
let ownOptions: string | undefined;

function setFfmpegTimeout(timeoutMs: number): void {
  /* eslint-disable no-restricted-syntax -- OpenCV's FFmpeg backend reads its options only from this variable */
  const current = process.env[OPTIONS_VARIABLE];
  if (current !== undefined && current !== ownOptions) return;
  ownOptions = `rtsp_transport;tcp|timeout;${Math.round(timeoutMs * 1000)}`;
  process.env[OPTIONS_VARIABLE] = ownOptions;
  /* eslint-enable no-restricted-syntax */
}

/**
 * Opens a network URL. Blocks the calling thread until FFmpeg answers, at most about
 * `timeoutMs` (a silent socket), and throws `VideoError` `SOURCE_UNREACHABLE` naming the URL
 * without its credentials.
 */
export function openNetworkCapture(url: string, timeoutMs: number): Capture {
  setFfmpegTimeout(timeoutMs);
  const startedAt = performance.now();
  let capture: Capture;
  try {
    capture = new cv.VideoCapture(url, cv.CAP_FFMPEG);
  } catch (cause) {
    const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
    throw new VideoError(
      "SOURCE_UNREACHABLE",
      `cannot open ${redactUrl(url)}: no video from it after ${seconds} s (timeout ${timeoutMs / 1000} s${cause instanceof Error ? `, ${describeCause(cause)}` : ""}); check the address, the path and that the camera is on`,
      { cause },
    );
  }
  if (!(capture.get(cv.CAP_PROP_FRAME_WIDTH) > 0 && capture.get(cv.CAP_PROP_FRAME_HEIGHT) > 0)) {
    capture.release();
    throw new VideoError("SOURCE_UNREACHABLE", `cannot open ${redactUrl(url)}: it answers, but with no video stream`);
  }
  return capture;
}

/**
 * Switches the capture to raw mode (`CAP_PROP_FORMAT = -1`: FFmpeg's packets, not decoded
 * pixels) and reads the first packet: returned when it is a JPEG image, so that the caller can
 * pass JPEG through; undefined (the capture is then spent) when the source cannot hand over
 * JPEG bytes.
 */
export function firstRawJpeg(capture: Capture): Uint8Array | undefined {
  if (!capture.set(cv.CAP_PROP_FORMAT, -1)) return undefined;
  let mat;
  try {
    mat = capture.read();
  } catch {
    return undefined;
  }
  if (mat.empty || mat.rows !== 1) return undefined;
  const bytes = mat.getData();
  return startsWithSoi(bytes) ? bytes : undefined;
}
