/**
 * A network camera (RTSP, or MJPEG over HTTP) through OpenCV's FFmpeg backend: opened with a
 * timeout, and reopened with backoff when it drops mid-stream (counted, reported once per
 * outage through `onEvent`, never thrown). Gives decoded frames, or the camera's own JPEG
 * bytes when it sends JPEG and the caller asks for them.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Frame } from "../frame.js";
import { matToFrame } from "../mat.js";
import { cv, type Mat } from "../opencv.js";
import { firstRawJpeg, openNetworkCapture, type Capture } from "./ffmpeg-capture.js";
import type { JpegFrame, JpegSource } from "./jpeg-frame.js";
import { BaseSource, type FrameSource } from "./source.js";
import { redactUrl } from "./url.js";

export const DEFAULT_OPEN_TIMEOUT_MS = 10_000;
/** Waits between reconnection attempts: doubling from the first, then the last one again. */
export const RECONNECT_BACKOFF_MS = [250, 500, 1_000, 2_000, 5_000] as const;

export type NetworkCameraEvent =
  | { readonly type: "lost"; readonly url: string }
  | { readonly type: "restored"; readonly url: string; readonly attempts: number; readonly outageMs: number };

export interface NetworkCameraOptions {
  /** Bound on opening (and on a silent socket while reading). Default 10 s. */
  readonly timeoutMs?: number;
  /** Called when the camera drops (once per outage) and when it is back. `url` is redacted. */
  readonly onEvent?: (event: NetworkCameraEvent) => void;
}

export interface NetworkCounters {
  /** Outages the source came back from. */
  readonly reconnects: number;
}

type Convert<T> = (mat: Mat, captureTime: number, sequence: number) => T | undefined;

class NetworkSource<T> extends BaseSource<T> implements NetworkCounters {
  readonly kind = "network" as const;
  reconnects = 0;
  private readonly stop = new AbortController();

  constructor(
    private readonly url: string,
    private capture: Capture | undefined,
    readonly width: number,
    readonly height: number,
    readonly fps: number,
    readonly description: string,
    private readonly reopen: (url: string) => Capture,
    private readonly convert: Convert<T>,
    private readonly onEvent: (event: NetworkCameraEvent) => void,
    private pending: T | undefined,
  ) {
    super();
  }

  protected async produce(): Promise<T | undefined> {
    if (this.pending !== undefined) {
      const first = this.pending;
      this.pending = undefined;
      this.sequence++;
      return first;
    }
    for (;;) {
      if (this.closed) return undefined;
      this.capture ??= await this.reconnect();
      if (this.capture === undefined) return undefined;
      let mat: Mat | undefined;
      try {
        mat = await this.capture.readAsync();
      } catch {
        mat = undefined;
      }
      if (mat !== undefined && !mat.empty) {
        const item = this.convert(mat, Date.now(), this.sequence);
        if (item !== undefined) {
          this.sequence++;
          return item;
        }
      }
      if (this.closed) return undefined;
      // End of stream or a read error: the camera went away.
      this.capture.release();
      this.capture = undefined;
    }
  }

  /** Reopens until it works or the source is closed; undefined once closed. */
  private async reconnect(): Promise<Capture | undefined> {
    const since = performance.now();
    const url = redactUrl(this.url);
    this.onEvent({ type: "lost", url });
    for (let attempt = 1; ; attempt++) {
      const wait = RECONNECT_BACKOFF_MS[Math.min(attempt, RECONNECT_BACKOFF_MS.length) - 1] ?? 5_000;
      try {
        await sleep(wait, undefined, { signal: this.stop.signal });
      } catch {
        return undefined;
      }
      if (this.closed) return undefined;
      try {
        const capture = this.reopen(this.url);
        this.reconnects++;
        this.onEvent({ type: "restored", url, attempts: attempt, outageMs: performance.now() - since });
        return capture;
      } catch {
        // Still away: the next attempt, after a longer wait.
      }
    }
  }

  override async close(): Promise<void> {
    this.stop.abort();
    await super.close();
  }

  protected release(): void {
    this.capture?.release();
    this.capture = undefined;
  }
}

function describe(url: string, width: number, height: number, fps: number, jpeg: boolean): string {
  return `network camera ${redactUrl(url)} (${width}x${height} @ ${Math.round(fps * 100) / 100} fps${jpeg ? ", JPEG passed through" : ""})`;
}

function sizeOf(capture: Capture): { width: number; height: number; fps: number } {
  const reported = capture.get(cv.CAP_PROP_FPS);
  return {
    width: capture.get(cv.CAP_PROP_FRAME_WIDTH),
    height: capture.get(cv.CAP_PROP_FRAME_HEIGHT),
    fps: reported > 0 && reported <= 1000 ? reported : 25,
  };
}

/** Opens `url` (rtsp://, http(s)://) for decoded frames. Throws `VideoError` `SOURCE_UNREACHABLE`. */
export function openNetworkCamera(
  url: string,
  options: NetworkCameraOptions = {},
): Promise<FrameSource & NetworkCounters> {
  return Promise.resolve().then(() => {
    const timeoutMs = options.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS;
    const capture = openNetworkCapture(url, timeoutMs);
    const { width, height, fps } = sizeOf(capture);
    const toFrame: Convert<Frame> = (mat, captureTime, sequence) => matToFrame(mat, { captureTime, sequence });
    return new NetworkSource<Frame>(
      url,
      capture,
      width,
      height,
      fps,
      describe(url, width, height, fps, false),
      (u) => openNetworkCapture(u, timeoutMs),
      toFrame,
      options.onEvent ?? (() => undefined),
      undefined,
    );
  });
}

/**
 * Opens `url` for its JPEG bytes as they come (raw mode), when the camera sends JPEG (MJPEG
 * over HTTP, RTP/JPEG over RTSP); undefined when it sends something else (H.264...).
 */
export function openNetworkJpegCamera(
  url: string,
  options: NetworkCameraOptions = {},
): Promise<(JpegSource & NetworkCounters) | undefined> {
  return Promise.resolve().then(() => {
    const timeoutMs = options.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS;
    const capture = openNetworkCapture(url, timeoutMs);
    const { width, height, fps } = sizeOf(capture);
    const first = firstRawJpeg(capture);
    if (first === undefined) {
      capture.release();
      return undefined;
    }
    const toJpeg: Convert<JpegFrame> = (mat, captureTime, sequence) =>
      mat.rows === 1 ? { kind: "jpeg", width, height, jpeg: mat.getData(), captureTime, sequence } : undefined;
    const reopen = (u: string): Capture => {
      const again = openNetworkCapture(u, timeoutMs);
      again.set(cv.CAP_PROP_FORMAT, -1);
      return again;
    };
    const source = new NetworkSource<JpegFrame>(
      url,
      capture,
      width,
      height,
      fps,
      describe(url, width, height, fps, true),
      reopen,
      toJpeg,
      options.onEvent ?? (() => undefined),
      {
        kind: "jpeg",
        width,
        height,
        jpeg: first,
        captureTime: Date.now(),
        sequence: 0,
      },
    );
    return source;
  });
}
