/**
 * One sink's queue: frames are delivered to it one at a time, in order; while it
 * is busy up to `seconds` of the stream (at least `minFrames` frames) and at most
 * `maxBytes` of payload wait, and past that a
 * new frame is skipped whole and counted. So a slow sink loses frames, never
 * slows ingest or another sink, and holds bounded memory. Frames the sink
 * holds itself (`Sink.heldFrames`) count as waiting.
 */
import { VideoError } from "@udpcam/video";
import type { Sink } from "../sinks/sink.js";
import type { TrackedFrame } from "./delivered-frame.js";

/** How a frame's trip through one sink ended. */
export type SinkOutcome = "delivered" | "skipped" | "undecodable";

export interface SinkQueueLimits {
  /** Frames that may wait whatever the rate. */
  readonly minFrames: number;
  /** And this much of the stream at its rate: a sink's one-off stall (OpenCV loading at a stream's first frame, 0.3 s here) must not cost frames at 50 fps or more. */
  readonly seconds: number;
  readonly maxBytes: number;
}

export interface SinkCounters {
  delivered: number;
  skipped: number;
  undecodable: number;
}

export class SinkQueue {
  readonly counters: SinkCounters = { delivered: 0, skipped: 0, undecodable: 0 };
  #waitingFrames = 0;
  #waitingBytes = 0;
  /** The last frame's delivery (never rejects): the next starts once it settles. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly sink: Sink,
    private readonly limits: SinkQueueLimits,
    /** A failure that is not the frame's fault (a full disk, a dead encoder): the app stops. */
    private readonly onFailure: (error: unknown) => void,
  ) {}

  /** Queues the frame for the sink; resolves with how its delivery ended. */
  offer(frame: TrackedFrame): Promise<SinkOutcome> {
    const bytes = frame.event.payload.byteLength;
    const held = this.sink.heldFrames;
    const waitingFrames = this.#waitingFrames + (held?.frames ?? 0);
    const waitingBytes = this.#waitingBytes + (held?.bytes ?? 0);
    const busy = waitingFrames > 0;
    const maxFrames = Math.max(this.limits.minFrames, Math.ceil(frame.fps * this.limits.seconds));
    if (busy && (waitingFrames >= maxFrames || waitingBytes + bytes > this.limits.maxBytes)) {
      this.counters.skipped++;
      return Promise.resolve("skipped");
    }
    // None of its own waiting: the last delivery has settled, this one starts now.
    const idle = this.#waitingFrames === 0;
    this.#waitingFrames++;
    this.#waitingBytes += bytes;
    const outcome = idle ? this.#deliver(frame, bytes) : this.#tail.then(() => this.#deliver(frame, bytes));
    this.#tail = outcome;
    return outcome;
  }

  /** Resolves once every queued frame has been delivered. */
  async drain(): Promise<void> {
    await this.#tail;
  }

  async #deliver(frame: TrackedFrame, bytes: number): Promise<SinkOutcome> {
    try {
      await this.sink.deliver(frame);
      this.counters.delivered++;
      return "delivered";
    } catch (error) {
      if (frame.undecodable || (VideoError.isInstance(error) && error.code === "JPEG_INVALID")) {
        this.counters.undecodable++;
        return "undecodable";
      }
      this.onFailure(error);
      return "skipped";
    } finally {
      this.#waitingFrames--;
      this.#waitingBytes -= bytes;
    }
  }
}
