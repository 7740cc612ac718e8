/**
 * What every frame source is (`FrameSource`: async iteration + `read()` + `close()`),
 * and the parts the camera, file and test-pattern sources share: pacing and the
 * read queue.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { VideoError } from "../errors.js";
import type { Frame } from "../frame.js";

export type SourceKind = "camera" | "file" | "test" | "network";

export interface FrameSource extends AsyncIterable<Frame> {
  readonly kind: SourceKind;
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

export function checkFps(fps: number): number {
  if (!Number.isFinite(fps) || fps <= 0 || fps > 1000) {
    throw new VideoError("INVALID_OPTION", `fps must be a number above 0 and at most 1000, got ${fps}`);
  }
  return fps;
}

/** Waits until frame i is due at `fps`, counted from the first call; never bursts to catch up more than a frame. */
export class Pacer {
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

/** The read queue and close for any source; `T` is what it gives: a `Frame` (pixels) or a `JpegFrame`. */
export abstract class BaseSource<T = Frame> implements AsyncIterable<T> {
  abstract readonly kind: SourceKind;
  abstract readonly width: number;
  abstract readonly height: number;
  abstract readonly fps: number;
  abstract readonly description: string;
  private queue: Promise<unknown> = Promise.resolve();
  protected closed = false;
  protected sequence = 0;

  protected abstract produce(): Promise<T | undefined>;
  protected abstract release(): void;

  read(): Promise<T | undefined> {
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

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
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
