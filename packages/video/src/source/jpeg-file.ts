/**
 * An MJPG video file read as its JPEG bytes, for pass-through: an AVI from its chunks (no OpenCV loaded), any other
 * container in FFmpeg's raw mode (its packets, not decoded).
 */
import { cv } from "../opencv.js";
import { AviJpegReader } from "./avi-jpeg.js";
import { firstRawJpeg } from "./ffmpeg-capture.js";
import type { JpegFrame, JpegSource } from "./jpeg-frame.js";
import { PacedCaptureSource, PacedSource } from "./paced-capture.js";
import { checkFps, DEFAULT_FPS, type Pace } from "./source.js";
import { checkVideoFile, openVideoFile } from "./video-file.js";

class AviJpegSource extends PacedSource<JpegFrame> implements JpegSource {
  readonly kind = "file" as const;

  constructor(
    private readonly reader: AviJpegReader,
    width: number,
    height: number,
    fps: number,
    description: string,
    pace: Pace,
  ) {
    super(width, height, fps, description, pace);
  }

  protected async produce(): Promise<JpegFrame | undefined> {
    await this.pacer?.wait();
    const jpeg = await this.reader.next();
    return jpeg === undefined ? undefined : jpegFrame(this, jpeg, this.sequence++);
  }

  protected override release(): void {
    super.release();
    this.reader.close().catch(() => undefined);
  }
}

function jpegFrame(
  source: { readonly width: number; readonly height: number },
  jpeg: Uint8Array,
  sequence: number,
): JpegFrame {
  return { kind: "jpeg", width: source.width, height: source.height, jpeg, captureTime: Date.now(), sequence };
}

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
    return jpegFrame(this, jpeg, this.sequence++);
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
  await checkVideoFile(path);
  const avi = await AviJpegReader.open(path);
  if (avi !== undefined) {
    const { width, height } = avi.header;
    const { fps, description } = playback(path, width, height, options.fps, avi.header.fps);
    return new AviJpegSource(avi, width, height, fps, description, options.pace ?? "realtime");
  }
  const probe = await openVideoFile(path, { pace: "asap" });
  await probe.close();
  const capture = new cv.VideoCapture(path, cv.CAP_FFMPEG);
  const first = firstRawJpeg(capture);
  if (first === undefined) {
    capture.release();
    return undefined;
  }
  const { width, height } = probe;
  const { fps, description } = playback(path, width, height, options.fps, capture.get(cv.CAP_PROP_FPS));
  return new JpegFileSource(capture, width, height, fps, description, options.pace ?? "realtime", first);
}

/** The rate to play at (`asked`, else the file's own when it says a sane one) and the source's description. */
function playback(path: string, width: number, height: number, asked: number | undefined, own: number | undefined) {
  const fps = asked ?? (own !== undefined && own > 0 && own <= 1000 ? own : DEFAULT_FPS);
  const description = `file ${path} (${width}x${height} @ ${Math.round(fps * 100) / 100} fps, JPEG passed through)`;
  return { fps, description };
}
