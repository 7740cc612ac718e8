/**
 * Frame sources: a camera, a video file, or the synthetic test pattern, all behind
 * `FrameSource` (async iteration + `read()` + `close()`).
 */
import { constants as fsConstants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { describeCause, VideoError } from "./errors.js";
import type { Frame } from "./frame.js";
import { matToFrame } from "./mat.js";
import { cv, type Mat } from "./opencv.js";
import { renderPatternFrame } from "./pattern.js";

export interface FrameSource extends AsyncIterable<Frame> {
  readonly kind: "camera" | "file" | "test";
  /** Size of every frame this source gives (what the camera really delivers, not what was asked). */
  readonly width: number;
  readonly height: number;
  /** Frames per second: the camera's, the file's, or the pattern's. */
  readonly fps: number;
  /** One line for logs, e.g. "camera 0 (640x480 @ 30 fps)". */
  readonly description: string;
  /**
   * The next frame, or undefined at the end (end of file, frame limit, closed).
   * Calls are queued: each resolves in order.
   */
  read(): Promise<Frame | undefined>;
  /** Releases the device or file. Safe to call twice; iteration that ends or breaks calls it. */
  close(): Promise<void>;
}

/** `realtime`: frames come at the source's fps. `asap`: as fast as they can be made or read. */
export type Pace = "realtime" | "asap";

export const DEFAULT_FPS = 25;

function checkFps(fps: number): number {
  if (!Number.isFinite(fps) || fps <= 0 || fps > 1000) {
    throw new VideoError("INVALID_OPTION", `fps must be a number above 0 and at most 1000, got ${fps}`);
  }
  return fps;
}

/** Waits until frame i is due at `fps`, counted from the first call; never bursts to catch up more than a frame. */
class Pacer {
  private next: number | undefined;
  constructor(private readonly interval: number) {}

  async wait(): Promise<void> {
    const now = performance.now();
    if (this.next === undefined || now - this.next > this.interval) this.next = now;
    const delay = this.next - now;
    this.next += this.interval;
    if (delay > 0) await sleep(delay);
  }
}

abstract class BaseSource implements FrameSource {
  abstract readonly kind: "camera" | "file" | "test";
  abstract readonly width: number;
  abstract readonly height: number;
  abstract readonly fps: number;
  abstract readonly description: string;
  private queue: Promise<unknown> = Promise.resolve();
  protected closed = false;
  protected sequence = 0;

  protected abstract produce(): Promise<Frame | undefined>;
  protected abstract release(): void;

  read(): Promise<Frame | undefined> {
    const result = this.queue.then(() => (this.closed ? undefined : this.produce()));
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    this.release();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Frame, void, undefined> {
    try {
      for (;;) {
        const frame = await this.read();
        if (frame === undefined) return;
        yield frame;
      }
    } finally {
      await this.close();
    }
  }
}

// ---------------------------------------------------------------------------
// Test pattern

export interface TestPatternOptions {
  /** Default 640. */
  readonly width?: number;
  /** Default 480. */
  readonly height?: number;
  /** Default 25. */
  readonly fps?: number;
  /** Stop after this many frames; default: never. */
  readonly frames?: number;
  /** Number of the first frame; default 0. */
  readonly firstFrame?: number;
  /** Default `realtime`. */
  readonly pace?: Pace;
}

class TestPatternSource extends BaseSource {
  readonly kind = "test" as const;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly description: string;
  private readonly pacer: Pacer | undefined;
  private readonly end: number;
  private n: number;

  constructor(options: TestPatternOptions) {
    super();
    this.width = options.width ?? 640;
    this.height = options.height ?? 480;
    this.fps = checkFps(options.fps ?? DEFAULT_FPS);
    this.n = options.firstFrame ?? 0;
    const frames = options.frames ?? Infinity;
    if (!(frames >= 0)) throw new VideoError("INVALID_OPTION", `frames must be >= 0, got ${frames}`);
    this.end = this.n + frames;
    this.pacer = (options.pace ?? "realtime") === "realtime" ? new Pacer(1000 / this.fps) : undefined;
    renderPatternFrame(this.n, this.width, this.height); // validates size and first frame now, not at the first read
    this.description = `test pattern (${this.width}x${this.height} @ ${this.fps} fps)`;
  }

  protected async produce(): Promise<Frame | undefined> {
    if (this.n >= this.end) return undefined;
    await this.pacer?.wait();
    return renderPatternFrame(this.n++, this.width, this.height);
  }

  protected release(): void {}
}

/** The synthetic test pattern (see `renderPatternFrame`); frame n has sequence n. */
export function openTestPattern(options: TestPatternOptions = {}): Promise<FrameSource> {
  return Promise.resolve().then(() => new TestPatternSource(options));
}

// ---------------------------------------------------------------------------
// OpenCV captures (camera and file)

class CaptureSource extends BaseSource {
  private pacer: Pacer | undefined;

  constructor(
    readonly kind: "camera" | "file",
    private readonly capture: InstanceType<typeof cv.VideoCapture>,
    readonly width: number,
    readonly height: number,
    readonly fps: number,
    readonly description: string,
    pace: Pace,
    /** Frames in the file as its header says (may be approximate); undefined for cameras. */
    readonly frameCount: number | undefined,
  ) {
    super();
    this.pacer = pace === "realtime" ? new Pacer(1000 / fps) : undefined;
  }

  protected async produce(): Promise<Frame | undefined> {
    await this.pacer?.wait();
    let mat: Mat;
    try {
      // A camera blocks until its next frame: read it on the thread pool. A file
      // decodes in about a millisecond: read it here, because the binding's async
      // workers keep the capture open until V8 collects them (release() would not
      // close the file).
      mat = this.kind === "camera" ? await this.capture.readAsync() : this.capture.read();
    } catch {
      return undefined;
    }
    const captureTime = Date.now();
    if (mat.empty) return undefined;
    return matToFrame(mat, { captureTime, sequence: this.sequence++ });
  }

  protected release(): void {
    this.pacer = undefined;
    this.capture.release();
  }
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
export function openCamera(index = 0, options: CameraOptions = {}): Promise<FrameSource & { readonly frameCount: undefined }> {
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
    if (options.width !== undefined) capture.set(cv.CAP_PROP_FRAME_WIDTH, options.width);
    if (options.height !== undefined) capture.set(cv.CAP_PROP_FRAME_HEIGHT, options.height);
    if (options.fps !== undefined) capture.set(cv.CAP_PROP_FPS, options.fps);
    const width = capture.get(cv.CAP_PROP_FRAME_WIDTH);
    const height = capture.get(cv.CAP_PROP_FRAME_HEIGHT);
    const reported = capture.get(cv.CAP_PROP_FPS);
    const fps = reported > 0 && reported <= 1000 ? reported : (options.fps ?? 30);
    const description = `camera ${index} (${width}x${height} @ ${fps} fps)`;
    return new CaptureSource("camera", capture, width, height, fps, description, "asap", undefined) as CaptureSource & {
      readonly frameCount: undefined;
    };
  });
}

export interface VideoFileOptions {
  /** Default `realtime`: at the file's own frame rate (or `fps`). */
  readonly pace?: Pace;
  /** Play at this rate instead of the file's own. */
  readonly fps?: number;
}

/**
 * Reads a video file (anything FFmpeg decodes) and ends cleanly at its end.
 * Throws `VideoError` `FILE_NOT_FOUND` or `FILE_UNREADABLE`, naming the path.
 */
export async function openVideoFile(path: string, options: VideoFileOptions = {}): Promise<FrameSource & { readonly frameCount: number | undefined }> {
  if (options.fps !== undefined) checkFps(options.fps);
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
  let capture: InstanceType<typeof cv.VideoCapture>;
  try {
    capture = new cv.VideoCapture(path, cv.CAP_FFMPEG);
  } catch (cause) {
    throw new VideoError("FILE_UNREADABLE", `cannot read video file ${path}: not a video FFmpeg can decode (${describeCause(cause)})`, {
      cause,
    });
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
  return new CaptureSource("file", capture, width, height, fps, description, options.pace ?? "realtime", frameCount);
}

// ---------------------------------------------------------------------------
// One entry point for apps

export type SourceSpec =
  | { readonly kind: "camera"; readonly index: number }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "test" };

/** `"test"` -> test pattern; digits (`"0"`) -> camera index; anything else -> a file path. */
export function parseSourceSpec(text: string): SourceSpec {
  const trimmed = text.trim();
  if (trimmed === "") throw new VideoError("INVALID_OPTION", "source must be 'test', a camera index like 0, or a video file path");
  if (trimmed === "test") return { kind: "test" };
  if (/^\d+$/.test(trimmed)) return { kind: "camera", index: Number(trimmed) };
  return { kind: "file", path: text };
}

export interface SourceOptions {
  /** Size for the test pattern; what to ask a camera for. Ignored for files. */
  readonly width?: number;
  readonly height?: number;
  /** Rate for the test pattern; what to ask a camera for; playback rate for a file. */
  readonly fps?: number;
  /** For the test pattern and files; cameras set their own pace. */
  readonly pace?: Pace;
  /** Test pattern only: stop after this many frames. */
  readonly frames?: number;
}

/** Opens whichever source `spec` names (a string is parsed with `parseSourceSpec`). */
export async function openSource(spec: SourceSpec | string, options: SourceOptions = {}): Promise<FrameSource> {
  const parsed = typeof spec === "string" ? parseSourceSpec(spec) : spec;
  switch (parsed.kind) {
    case "test":
      return await openTestPattern(options);
    case "camera":
      return await openCamera(parsed.index, options);
    case "file":
      return await openVideoFile(parsed.path, options);
  }
}
