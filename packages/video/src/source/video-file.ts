/** A video file (anything FFmpeg decodes) as a frame source. */
import { constants as fsConstants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { describeCause, VideoError } from "../errors.js";
import { cv } from "../opencv.js";
import { CaptureSource } from "./capture.js";
import { checkFps, DEFAULT_FPS, type FrameSource, type Pace } from "./source.js";

export interface VideoFileOptions {
  /** Default `realtime`: at the file's own frame rate (or `fps`). */
  readonly pace?: Pace;
  /** Play at this rate instead of the file's own. */
  readonly fps?: number;
  /** Copy each frame's pixels, when asked for, into this many buffers in turn (`TestPatternOptions.reuseBuffers`). */
  readonly reuseBuffers?: number;
}

/** Throws `VideoError` `FILE_NOT_FOUND` or `FILE_UNREADABLE`, naming the path, unless `path` is a readable file. */
export async function checkVideoFile(path: string): Promise<void> {
  let isFile: boolean;
  try {
    isFile = (await stat(path)).isFile();
  } catch (cause) {
    throw new VideoError("FILE_NOT_FOUND", `video file not found: ${path}`, { cause });
  }
  if (!isFile) throw new VideoError("FILE_UNREADABLE", `not a video file (a folder or device): ${path}`);
  try {
    await access(path, fsConstants.R_OK);
  } catch (cause) {
    throw new VideoError("FILE_UNREADABLE", `video file not readable (permission denied): ${path}`, { cause });
  }
}

/**
 * Reads a video file (anything FFmpeg decodes) and ends cleanly at its end.
 * Throws `VideoError` `FILE_NOT_FOUND` or `FILE_UNREADABLE`, naming the path.
 */
export async function openVideoFile(
  path: string,
  options: VideoFileOptions = {},
): Promise<FrameSource & { readonly frameCount: number | undefined }> {
  if (options.fps !== undefined) checkFps(options.fps);
  await checkVideoFile(path);
  let capture: InstanceType<typeof cv.VideoCapture>;
  try {
    capture = new cv.VideoCapture(path, cv.CAP_FFMPEG);
  } catch (cause) {
    throw new VideoError(
      "FILE_UNREADABLE",
      `cannot read video file ${path}: not a video FFmpeg can decode (${describeCause(cause)})`,
      {
        cause,
      },
    );
  }
  const width = capture.get(cv.CAP_PROP_FRAME_WIDTH);
  const height = capture.get(cv.CAP_PROP_FRAME_HEIGHT);
  if (!(width > 0 && height > 0)) {
    capture.release();
    throw new VideoError("FILE_UNREADABLE", `cannot read video file ${path}: it has no video stream`);
  }
  const own = capture.get(cv.CAP_PROP_FPS);
  const fps = options.fps ?? (own > 0 && own <= 1000 ? own : DEFAULT_FPS);
  const count = capture.get(cv.CAP_PROP_FRAME_COUNT);
  const frameCount = count > 0 ? Math.round(count) : undefined;
  const description = `file ${path} (${width}x${height} @ ${Math.round(fps * 100) / 100} fps${frameCount === undefined ? "" : `, ${frameCount} frames`})`;
  try {
    return new CaptureSource(
      "file",
      capture,
      width,
      height,
      fps,
      description,
      options.pace ?? "realtime",
      frameCount,
      options.reuseBuffers,
    );
  } catch (error) {
    capture.release();
    throw error;
  }
}
