/**
 * Recording frames to a video file through OpenCV's VideoWriter (FFmpeg backend),
 * DIVX in AVI by default like the seed.
 *
 * Writes go through a small bounded queue, encoded one frame per event-loop turn
 * and in order, so the caller's event loop keeps reading sockets between frames.
 * The encode itself is OpenCV's synchronous `write` (about 1.5 ms for 640x480 DIVX
 * here): the binding's `writeAsync` keeps a copy of the writer alive in its worker
 * until V8 collects it, so `release()` after `writeAsync` leaves the file
 * unfinalized (measured: unreadable by ffprobe) until some later garbage collection. Everything that can be checked is checked at open time, before any frame
 * is lost: container, fourcc, folder, and a one-frame probe file written with the
 * same codec next to the target.
 */
import { constants as fsConstants } from "node:fs";
import { access, stat, unlink } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import { setImmediate as nextTurn } from "node:timers/promises";
import { describeCause, VideoError } from "./errors.js";
import { assertFrame, type Frame } from "./frame.js";
import { frameToMat } from "./mat.js";
import { CAP_PROP_BACKEND, cv } from "./opencv.js";

/** Containers (file extensions) and the fourccs each takes without FFmpeg complaining. */
export const SUPPORTED_FOURCCS: Readonly<Record<string, readonly string[]>> = {
  ".avi": ["DIVX", "XVID", "FMP4", "mp4v", "MJPG", "H264", "avc1"],
  ".mkv": ["DIVX", "XVID", "FMP4", "mp4v", "MJPG", "H264", "avc1"],
  ".mp4": ["mp4v", "avc1"],
  ".mov": ["DIVX", "XVID", "mp4v", "avc1"],
};

export const DEFAULT_FOURCC = "DIVX";

export interface RecorderOptions {
  /** Four-character codec code; default `DIVX`. See `SUPPORTED_FOURCCS`. */
  readonly fourcc?: string;
  /** Frame rate written in the file; default 25 (the seed's). */
  readonly fps?: number;
  /**
   * A frame whose size differs from the first frame's: `scale` it to that size
   * (default) or reject the write with `FRAME_SIZE_MISMATCH` (`error`).
   */
  readonly onSizeMismatch?: "scale" | "error";
  /** Frames waiting to be encoded at most; default 8. */
  readonly queueLimit?: number;
  /** When the queue is full: `wait` (the write's promise waits; default) or `drop` the new frame. */
  readonly whenFull?: "wait" | "drop";
  /**
   * Split the recording into files of this many seconds of video each (counted in
   * frames at `fps`): `out.avi` becomes `out-000.avi`, `out-001.avi`, ... Each file
   * is finalized when the next one starts, so a killed recorder loses at most the
   * last segment. Default: one file.
   */
  readonly segmentSeconds?: number;
}

export interface RecorderStats {
  readonly framesWritten: number;
  /** Frames refused because the queue was full (`whenFull: 'drop'`). */
  readonly framesDropped: number;
  /** Frames scaled to the recording's size. */
  readonly framesScaled: number;
  /** Every file written, in order. */
  readonly files: readonly string[];
}

export interface Recorder extends RecorderStats {
  /** The path given to `openRecorder`. */
  readonly path: string;
  /** Size of the recording: undefined until the first frame. */
  readonly width: number | undefined;
  readonly height: number | undefined;
  /**
   * Queues a frame. Resolves once the frame is queued (at once unless the queue is
   * full and `whenFull` is `wait`). Rejects with a `VideoError`: `FRAME_SIZE_MISMATCH`,
   * `INVALID_FRAME`, `CLOSED`, or `WRITE_FAILED` when an earlier frame failed to encode.
   * The frame's bytes must not change until it is written (frames are immutable).
   */
  write(frame: Frame): Promise<void>;
  /** Resolves when every queued frame is written. */
  flush(): Promise<void>;
  /**
   * Writes what is queued and finalizes the file. Always releases the writer, also
   * after a failure (then rethrown). Safe to call twice.
   */
  close(): Promise<RecorderStats>;
}

type Writer = InstanceType<typeof cv.VideoWriter>;

function segmentPath(path: string, index: number): string {
  const ext = extname(path);
  return `${path.slice(0, path.length - ext.length)}-${String(index).padStart(3, "0")}${ext}`;
}

function openWriter(path: string, fourcc: string, fps: number, width: number, height: number): Writer {
  let writer: Writer;
  try {
    writer = new cv.VideoWriter(path, cv.VideoWriter.fourcc(fourcc), fps, new cv.Size(width, height), true);
  } catch (cause) {
    throw new VideoError("CODEC_UNAVAILABLE", `cannot record ${fourcc} to ${path}: ${describeCause(cause)}`, { cause });
  }
  // The binding has no isOpened(); the backend property is -1 when the writer did not open.
  if ((writer.get(CAP_PROP_BACKEND) as unknown as number) !== cv.CAP_FFMPEG) {
    writer.release();
    throw new VideoError("CODEC_UNAVAILABLE", `OpenCV's FFmpeg cannot write ${fourcc} to ${path}`);
  }
  return writer;
}

async function checkOutput(path: string, fourcc: string): Promise<void> {
  const ext = extname(path).toLowerCase();
  const fourccs = SUPPORTED_FOURCCS[ext];
  if (fourccs === undefined) {
    throw new VideoError("CODEC_UNSUPPORTED", `cannot record to ${path}: use a file ending in ${Object.keys(SUPPORTED_FOURCCS).join(", ")}`);
  }
  if (!fourccs.includes(fourcc)) {
    throw new VideoError("CODEC_UNSUPPORTED", `fourcc '${fourcc}' is not supported in ${ext} files; use one of ${fourccs.join(", ")}`);
  }
  const dir = dirname(path);
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error("not a folder");
    await access(dir, fsConstants.W_OK);
  } catch (cause) {
    throw new VideoError("OUTPUT_NOT_WRITABLE", `cannot record to ${path}: folder ${dir} does not exist or is not writable`, { cause });
  }
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory() === true) throw new VideoError("OUTPUT_NOT_WRITABLE", `cannot record to ${path}: it is a folder`);
  if (existing !== undefined) {
    await access(path, fsConstants.W_OK).catch((cause: unknown) => {
      throw new VideoError("OUTPUT_NOT_WRITABLE", `cannot record to ${path}: the existing file is not writable`, { cause });
    });
  }
}

/** Writes one 16x16 frame with the codec next to the target, then removes it. */
async function probeCodec(path: string, fourcc: string, fps: number): Promise<void> {
  const probe = join(dirname(path), `.${basename(path)}.probe-${process.pid}${extname(path)}`);
  try {
    const writer = openWriter(probe, fourcc, fps, 16, 16);
    try {
      writer.write(new cv.Mat(16, 16, cv.CV_8UC3, Buffer.alloc(16 * 16 * 3, 128)));
    } finally {
      writer.release();
    }
    if (!((await stat(probe)).size > 0)) throw new VideoError("CODEC_UNAVAILABLE", `OpenCV's FFmpeg wrote nothing for ${fourcc}`);
  } catch (cause) {
    if (VideoError.isInstance(cause)) {
      throw new VideoError(cause.code, `cannot record ${fourcc} to ${path}: ${cause.message}`, { cause });
    }
    throw new VideoError("CODEC_UNAVAILABLE", `cannot record ${fourcc} to ${path}: ${describeCause(cause)}`, { cause });
  } finally {
    await unlink(probe).catch(() => undefined);
  }
}

class VideoRecorder implements Recorder {
  width: number | undefined;
  height: number | undefined;
  framesWritten = 0;
  framesDropped = 0;
  framesScaled = 0;
  readonly files: string[] = [];
  private readonly queue: Frame[] = [];
  private readonly spaceWaiters: (() => void)[] = [];
  private drained: Promise<void> = Promise.resolve();
  private pumping = false;
  private writer: Writer | undefined;
  private segment = -1;
  private failure: VideoError | undefined;
  private closing: Promise<RecorderStats> | undefined;
  private readonly framesPerSegment: number;

  constructor(
    readonly path: string,
    private readonly fourcc: string,
    private readonly fps: number,
    private readonly onSizeMismatch: "scale" | "error",
    private readonly queueLimit: number,
    private readonly whenFull: "wait" | "drop",
    segmentSeconds: number | undefined,
  ) {
    this.framesPerSegment = segmentSeconds === undefined ? Infinity : Math.max(1, Math.round(segmentSeconds * fps));
  }

  async write(frame: Frame): Promise<void> {
    if (this.closing !== undefined) throw new VideoError("CLOSED", `recorder for ${this.path} is closed`);
    this.throwFailure();
    assertFrame(frame); // now, where the caller sees the error
    if (this.width === undefined || this.height === undefined) {
      this.width = frame.width;
      this.height = frame.height;
    } else if ((frame.width !== this.width || frame.height !== this.height) && this.onSizeMismatch === "error") {
      throw new VideoError(
        "FRAME_SIZE_MISMATCH",
        `recording ${this.path} is ${this.width}x${this.height}; refused a ${frame.width}x${frame.height} frame`,
      );
    }
    while (this.queue.length >= this.queueLimit) {
      if (this.whenFull === "drop") {
        this.framesDropped++;
        return;
      }
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
      this.throwFailure();
    }
    this.queue.push(frame);
    if (!this.pumping) {
      this.pumping = true;
      this.drained = this.pump();
    }
  }

  private throwFailure(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  flush(): Promise<void> {
    return this.drained;
  }

  private async pump(): Promise<void> {
    try {
      for (let frame = this.queue[0]; frame !== undefined && this.failure === undefined; frame = this.queue[0]) {
        try {
          await this.writeOne(frame);
        } catch (cause) {
          this.failure = VideoError.isInstance(cause)
            ? cause
            : new VideoError("WRITE_FAILED", `writing frame ${frame.sequence} to ${this.path} failed: ${describeCause(cause)}`, { cause });
        }
        this.queue.shift();
        this.spaceWaiters.shift()?.();
      }
    } finally {
      this.pumping = false;
      if (this.failure !== undefined) {
        this.queue.length = 0;
        for (const wake of this.spaceWaiters.splice(0)) wake();
      }
    }
  }

  private async writeOne(frame: Frame): Promise<void> {
    const width = this.width ?? frame.width;
    const height = this.height ?? frame.height;
    const segment = Math.floor(this.framesWritten / this.framesPerSegment);
    if (this.writer === undefined || segment !== this.segment) {
      this.writer?.release();
      this.writer = undefined;
      const file = this.framesPerSegment === Infinity ? this.path : segmentPath(this.path, segment);
      this.writer = openWriter(file, this.fourcc, this.fps, width, height);
      this.segment = segment;
      this.files.push(file);
    }
    await nextTurn();
    let mat = frameToMat(frame);
    if (frame.width !== width || frame.height !== height) {
      const shrink = width < frame.width && height < frame.height;
      mat = mat.resize(height, width, 0, 0, shrink ? cv.INTER_AREA : cv.INTER_LINEAR);
      this.framesScaled++;
    }
    this.writer.write(mat);
    this.framesWritten++;
  }

  close(): Promise<RecorderStats> {
    this.closing ??= this.finish();
    return this.closing;
  }

  private async finish(): Promise<RecorderStats> {
    try {
      await this.drained;
    } finally {
      this.writer?.release();
      this.writer = undefined;
    }
    this.throwFailure();
    return { framesWritten: this.framesWritten, framesDropped: this.framesDropped, framesScaled: this.framesScaled, files: [...this.files] };
  }
}

/**
 * Opens a recording at `path` (`.avi`, `.mkv`, `.mp4` or `.mov`). The size is the
 * first frame's. Throws `VideoError` `CODEC_UNSUPPORTED`, `CODEC_UNAVAILABLE`,
 * `OUTPUT_NOT_WRITABLE` or `INVALID_OPTION` now rather than at the first frame.
 */
export async function openRecorder(path: string, options: RecorderOptions = {}): Promise<Recorder> {
  const fourcc = options.fourcc ?? DEFAULT_FOURCC;
  const fps = options.fps ?? 25;
  if (!Number.isFinite(fps) || fps <= 0 || fps > 1000) throw new VideoError("INVALID_OPTION", `fps must be above 0 and at most 1000, got ${fps}`);
  const queueLimit = options.queueLimit ?? 8;
  if (!Number.isInteger(queueLimit) || queueLimit < 1) throw new VideoError("INVALID_OPTION", `queueLimit must be an integer >= 1, got ${queueLimit}`);
  const { segmentSeconds } = options;
  if (segmentSeconds !== undefined && !(segmentSeconds > 0)) {
    throw new VideoError("INVALID_OPTION", `segmentSeconds must be above 0, got ${segmentSeconds}`);
  }
  await checkOutput(path, fourcc);
  await probeCodec(path, fourcc, fps);
  return new VideoRecorder(path, fourcc, fps, options.onSizeMismatch ?? "scale", queueLimit, options.whenFull ?? "wait", segmentSeconds);
}
