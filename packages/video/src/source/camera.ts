/** A camera (V4L2 on Linux) as a frame source. */
import { VideoError } from "../errors.js";
import { cv } from "../opencv.js";
import { CaptureSource } from "./capture.js";
import { checkFps, type FrameSource } from "./source.js";

/**
 * Above this many pixels a second, ask for MJPG: uncompressed YUYV at 640x480 and 30 fps is
 * about 18 MB/s, what a USB 2.0 camera carries at most; 720p and above come at full rate only
 * as MJPEG.
 */
export const MJPEG_ABOVE_PIXELS_PER_SECOND = 640 * 480 * 30;
const MJPG_FOURCC = fourccCode("MJPG");

/** Whether the size and rate asked for need the camera's MJPEG mode. */
export function needsMjpeg(options: CameraOptions): boolean {
  const pixels = (options.width ?? 640) * (options.height ?? 480);
  return pixels * (options.fps ?? 30) > MJPEG_ABOVE_PIXELS_PER_SECOND;
}

function fourccCode(text: string): number {
  return text.charCodeAt(0) | (text.charCodeAt(1) << 8) | (text.charCodeAt(2) << 16) | (text.charCodeAt(3) << 24);
}

/** "MJPG", "YUYV"...: what the camera delivers, from CAP_PROP_FOURCC; undefined when it says nothing readable. */
export function fourccText(code: number): string | undefined {
  if (!(code > 0)) return undefined;
  const text = String.fromCharCode(code & 0xff, (code >>> 8) & 0xff, (code >>> 16) & 0xff, (code >>> 24) & 0xff);
  return /^[ -~]{4}$/.test(text) ? text.trim() : undefined;
}

export interface CameraOptions {
  /** Width to ask the camera for; it may give another (see `FrameSource.width`). */
  readonly width?: number;
  readonly height?: number;
  readonly fps?: number;
}

/**
 * Opens camera `index` (0 is the first, as in the seed), asks for the size and rate
 * given, and reports what the camera really gives. Frames come at the camera's pace.
 * Throws `VideoError` `CAMERA_NOT_FOUND` when there is no such camera.
 */
export function openCamera(
  index = 0,
  options: CameraOptions = {},
): Promise<FrameSource & { readonly frameCount: undefined }> {
  return Promise.resolve().then(() => {
    if (!Number.isInteger(index) || index < 0) {
      throw new VideoError("INVALID_OPTION", `camera index must be an integer >= 0, got ${index}`);
    }
    if (options.fps !== undefined) checkFps(options.fps);
    let capture: InstanceType<typeof cv.VideoCapture>;
    try {
      // V4L2 directly on Linux: no GStreamer pipeline attempts, a fast answer when absent.
      capture = new cv.VideoCapture(index, process.platform === "linux" ? cv.CAP_V4L2 : cv.CAP_ANY);
    } catch (cause) {
      throw new VideoError(
        "CAMERA_NOT_FOUND",
        `no camera at index ${index}${process.platform === "linux" ? ` (/dev/video${index} cannot be opened)` : ""}; ` +
          `use --source test for the test pattern, or give a video file path`,
        { cause },
      );
    }
    // The format first: a camera offers its larger sizes and rates only in MJPG.
    if (needsMjpeg(options)) capture.set(cv.CAP_PROP_FOURCC, MJPG_FOURCC);
    if (options.width !== undefined) capture.set(cv.CAP_PROP_FRAME_WIDTH, options.width);
    if (options.height !== undefined) capture.set(cv.CAP_PROP_FRAME_HEIGHT, options.height);
    if (options.fps !== undefined) capture.set(cv.CAP_PROP_FPS, options.fps);
    const width = capture.get(cv.CAP_PROP_FRAME_WIDTH);
    const height = capture.get(cv.CAP_PROP_FRAME_HEIGHT);
    const reported = capture.get(cv.CAP_PROP_FPS);
    const fps = reported > 0 && reported <= 1000 ? reported : (options.fps ?? 30);
    const format = fourccText(capture.get(cv.CAP_PROP_FOURCC));
    const description = `camera ${index} (${width}x${height} @ ${fps} fps${format === undefined ? "" : `, ${format}`})`;
    return new CaptureSource("camera", capture, width, height, fps, description, "asap", undefined) as CaptureSource & {
      readonly frameCount: undefined;
    };
  });
}
