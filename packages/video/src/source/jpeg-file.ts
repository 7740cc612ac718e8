/** An MJPG video file read as its JPEG bytes (raw mode: FFmpeg's packets, not decoded), for pass-through. */
import { cv } from "../opencv.js";
import { firstRawJpeg } from "./ffmpeg-capture.js";
import type { JpegFrame, JpegSource } from "./jpeg-frame.js";
import { PacedCaptureSource } from "./paced-capture.js";
import { checkFps, DEFAULT_FPS, type Pace } from "./source.js";
import { openVideoFile } from "./video-file.js";

class JpegFileSource extends PacedCaptureSource<JpegFrame> implements JpegSource {
  readonly kind = "file" as const;

  constructor(
    capture: InstanceType<typeof cv.VideoCapture>,
    width: number,
    height: number,
    fps: number,
    description: string,
    pace: Pace,
    private first: Uint8Array | undefined,
  ) {
    super(capture, width, height, fps, description, pace);
  }

  protected async produce(): Promise<JpegFrame | undefined> {
    await this.pacer?.wait();
    let jpeg = this.first;
    this.first = undefined;
    if (jpeg === undefined) {
      // A packet is a memory copy: read here, not on the thread pool (see capture.ts).
      const mat = this.capture.read();
      if (mat.empty || mat.rows !== 1) return undefined;
      jpeg = mat.getData();
    }
    return {
      kind: "jpeg",
      width: this.width,
      height: this.height,
      jpeg,
      captureTime: Date.now(),
      sequence: this.sequence++,
    };
  }
}

/**
 * Opens `path` for its JPEG bytes when it stores JPEG (MJPG AVI); undefined when it stores
 * another codec. The same checks and errors as `openVideoFile` (it opens the file first).
 */
export async function openJpegFile(
  path: string,
  options: { readonly pace?: Pace; readonly fps?: number } = {},
): Promise<JpegSource | undefined> {
  if (options.fps !== undefined) checkFps(options.fps);
  const probe = await openVideoFile(path, { pace: "asap" });
  await probe.close();
  const capture = new cv.VideoCapture(path, cv.CAP_FFMPEG);
  const first = firstRawJpeg(capture);
  if (first === undefined) {
    capture.release();
    return undefined;
  }
  const own = capture.get(cv.CAP_PROP_FPS);
  const fps = options.fps ?? (own > 0 && own <= 1000 ? own : DEFAULT_FPS);
  const width = probe.width;
  const height = probe.height;
  const description = `file ${path} (${width}x${height} @ ${Math.round(fps * 100) / 100} fps, JPEG passed through)`;
  return new JpegFileSource(capture, width, height, fps, description, options.pace ?? "realtime", first);
}
