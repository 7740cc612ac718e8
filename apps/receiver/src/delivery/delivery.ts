/**
 * Delivery: every complete frame from ingest passes the stream gate, feeds the
 * latency window and the stats, and goes to each sink that accepts it, each
 * through its own bounded queue. A JPEG is decoded at most once, and only when
 * some sink asks for pixels.
 */
import type { Logger } from "@udpcam/appkit";
import type { FrameEvent } from "@udpcam/protocol";
import type { IngestedFrame } from "../ingest/messages.js";
import { rtpTimestampOf } from "../ingest/rtp-frame-rate.js";
import { LogThrottle } from "../log-throttle.js";
import type { Sink } from "../sinks/sink.js";
import type { ReceiverStats } from "../stats.js";
import { deliveredFrame, UNKNOWN_FPS_FALLBACK, type TrackedFrame } from "./delivered-frame.js";
import { LatencyWindow } from "./latency.js";
import { SinkQueue, type SinkCounters, type SinkOutcome } from "./sink-queue.js";
import { StreamGate, type StreamPolicy } from "./stream-gate.js";
import { StreamStats, streamHexId } from "./stream-stats.js";

/** With --streams first, how long the current stream must be silent before another takes over. */
const STREAM_TAKEOVER_MS = 2_000;
/** At most one "refusing a stream" line this often (a flood of forged streams must not flood the log). */
const REFUSAL_LOG_EVERY_MS = 10_000;
/** What one sink may have waiting: half a second of the stream, at least 32 frames (a network camera hands over a second of frames at once when it opens), at most 128 MB (five raw 4K frames). */
const SINK_QUEUE_LIMITS = { minFrames: 32, seconds: 0.5, maxBytes: 128 << 20 };
/** An RTP stream's rate is logged at this frame (3 steps of its timestamps, as its recording waits for). */
const RATE_LOGGED_AT_FRAME = 4;
/** RTP streams whose rate is not logged yet, at most (the oldest forgotten: a stream of fewer frames never is). */
const RATE_PENDING_STREAMS = 64;

export interface DeliveryOptions {
  readonly streams: StreamPolicy;
  /** With `separate`: streams taken (recorded) at once (--max-streams). */
  readonly maxStreams: number;
  /** Stop taking frames after this many, and call `onLimit` once they are delivered. */
  readonly frameLimit: number | undefined;
  readonly onLimit: () => void;
  /** A sink failed for a reason that is not the frame's (the app stops). */
  readonly onFailure: (error: unknown) => void;
  /**
   * Called with a frame's payload once nothing references it any more: no sink took it, or
   * every sink that did `releasesFrames` and released its holds (the ingest reuses the buffer).
   */
  readonly recycle?: (payload: Uint8Array) => void;
}

export class Delivery {
  readonly latency = new LatencyWindow();
  /** Per-stream figures (the live view's /api/streams). */
  readonly streams = new StreamStats();
  readonly #gate: StreamGate;
  readonly #queues: SinkQueue[];
  readonly #refusalLog = { first: new LogThrottle(REFUSAL_LOG_EVERY_MS), cap: new LogThrottle(REFUSAL_LOG_EVERY_MS) };
  #framesTaken = 0;
  /** RTP streams (no rate at their first frame): frames taken so far, until their rate is logged. */
  readonly #rateUnknown = new Map<number, number>();
  /** Frames taken and not through every sink yet, and who waits for none to be left (`drain`). */
  #inFlight = 0;
  #drained: (() => void)[] = [];

  constructor(
    sinks: readonly Sink[],
    private readonly stats: ReceiverStats,
    private readonly options: DeliveryOptions,
    private readonly logger: Logger,
  ) {
    this.#gate = new StreamGate(options.streams, STREAM_TAKEOVER_MS, options.maxStreams);
    this.#queues = sinks.map((sink) => new SinkQueue(sink, SINK_QUEUE_LIMITS, options.onFailure));
  }

  /** Each sink's counters, by sink name. */
  sinkCounters(): Record<string, SinkCounters> {
    return Object.fromEntries(this.#queues.map((queue) => [queue.sink.name, { ...queue.counters }]));
  }

  accept({ frame, senderClock, completedAt }: IngestedFrame): void {
    if (!this.#admit(frame, completedAt)) return this.#recycle(frame);
    const latencyMs = senderClock ? completedAt - frame.timestampMs : undefined;
    if (latencyMs !== undefined) this.latency.add(latencyMs);
    if (this.#rateUnknown.size > 0) this.#logRate(frame);
    this.streams.add(frame, completedAt, latencyMs);
    const { frameLimit } = this.options;
    if (frameLimit !== undefined && this.#framesTaken >= frameLimit) return this.#recycle(frame);
    this.#framesTaken++;
    const delivered = deliveredFrame(frame, frame.timestampMs);
    const outcomes: Promise<SinkOutcome>[] = [];
    let reusable = true;
    for (const queue of this.#queues) {
      if (!queue.sink.accepts(frame)) continue;
      if (queue.sink.releasesFrames !== true) reusable = false;
      outcomes.push(queue.offer(delivered));
    }
    // Most frames go to one sink (the recording): its promise is the one to wait on.
    const [first] = outcomes;
    const all = outcomes.length === 1 && first !== undefined ? first : Promise.all(outcomes).then(worst);
    this.#inFlight++;
    const settled = (outcome: SinkOutcome | undefined): void => {
      try {
        if (outcome !== undefined) this.#count(outcome);
        if (outcome !== undefined && reusable) this.#recycleOnceFree(delivered);
      } finally {
        if (--this.#inFlight === 0) for (const resolve of this.#drained.splice(0)) resolve();
      }
    };
    void all.then(settled, () => settled(undefined));
  }

  /** Hands the frame's buffer back once no sink holds it. */
  #recycleOnceFree(delivered: TrackedFrame): void {
    if (!delivered.held) return this.#recycle(delivered.event);
    delivered
      .released()
      .then(() => this.#recycle(delivered.event))
      .catch(() => undefined);
  }

  /** Hands a frame's buffer back for reuse. */
  #recycle(frame: FrameEvent): void {
    this.options.recycle?.(frame.payload);
  }

  /** Resolves once every frame taken so far went through every sink. */
  async drain(): Promise<void> {
    if (this.#inFlight > 0) await new Promise<void>((resolve) => this.#drained.push(resolve));
    await Promise.all(this.#queues.map((queue) => queue.drain()));
  }

  /** Drains, then closes every sink (each once, also when another fails). */
  async close(): Promise<void> {
    await this.drain();
    const results = await Promise.allSettled(this.#queues.map((queue) => queue.sink.close()));
    for (const [i, result] of results.entries()) {
      if (result.status === "rejected")
        this.logger.error({ err: result.reason }, `closing the ${this.#queues[i]?.sink.name} failed`);
    }
  }

  /** Counts a frame by how its trip through the sinks went (`worst` of them). */
  #count(outcome: SinkOutcome): void {
    if (outcome === "undecodable") {
      this.stats.framesUndecodable++;
      return;
    }
    if (outcome === "skipped") this.stats.framesSkippedBusy++;
    this.stats.framesDelivered++;
    const { frameLimit } = this.options;
    if (frameLimit !== undefined && this.stats.framesDelivered === frameLimit) this.options.onLimit();
  }

  /** The rate of an RTP stream, once its timestamps stepped often enough (the ingest measures it frame by frame). */
  #logRate({ streamId, fps }: FrameEvent): void {
    const frames = this.#rateUnknown.get(streamId);
    if (frames === undefined) return;
    if (frames + 1 < RATE_LOGGED_AT_FRAME) return void this.#rateUnknown.set(streamId, frames + 1);
    this.#rateUnknown.delete(streamId);
    this.logger.info(
      { streamId, fps },
      fps > 0
        ? `stream ${streamHex(streamId)}: ${fps} fps, from its RTP timestamps`
        : `stream ${streamHex(streamId)}: rate unknown, its RTP timestamps do not step`,
    );
  }

  /** The stream gate, with its log lines: whether frames of this stream are taken. */
  #admit(frame: FrameEvent, now: number): boolean {
    const decision = this.#gate.decide(frame.streamId, now);
    if (decision.kind === "refuse") {
      if (decision.isNew) {
        this.stats.streamsRefused++;
        const held = this.#refusalLog[decision.cause].take(now);
        if (held !== undefined) {
          const more = held > 0 ? ` (${held} more refused since the last such line)` : "";
          this.logger.warn(
            { streamId: frame.streamId, cause: decision.cause },
            decision.cause === "first"
              ? `refusing a second stream (id ${streamHex(frame.streamId)}) while stream ${streamHex(decision.current)} is live; use --streams separate to record each sender to its own file${more}`
              : `refusing stream ${streamHex(frame.streamId)}: ${this.options.maxStreams} streams (--max-streams) are being recorded and none has been silent ${STREAM_TAKEOVER_MS / 1000} s; raise --max-streams to record more at once, or set --key if these are not your senders${more}`,
          );
        }
      }
      return false;
    }
    if (decision.isNew) {
      this.stats.streamsSeen++;
      const { streamId, width, height, codec, fps } = frame;
      this.logger.info(
        { streamId, width, height, codec, fps },
        `${decision.replaces === undefined ? "new" : `stream ${streamHex(decision.replaces)} went silent; new`} stream ${streamHex(streamId)}: ${width}x${height} ${codec} ${rateText(frame)}`,
      );
      if (fps === 0 && rtpTimestampOf(frame) !== undefined) {
        if (this.#rateUnknown.size >= RATE_PENDING_STREAMS)
          this.#rateUnknown.delete(this.#rateUnknown.keys().next().value ?? streamId);
        this.#rateUnknown.set(streamId, 0);
      }
      for (const queue of this.#queues) queue.sink.streamStarted?.(streamId, decision.replaces);
    }
    return true;
  }
}

export const streamHex = streamHexId;

/** How a frame's trip through several sinks went: undecodable in any, else skipped by any, else delivered. */
function worst(results: readonly SinkOutcome[]): SinkOutcome {
  if (results.includes("undecodable")) return "undecodable";
  return results.includes("skipped") ? "skipped" : "delivered";
}

/** A new stream's rate as its first frame says it. */
function rateText(frame: FrameEvent): string {
  if (frame.fps > 0) return `at ${frame.fps} fps`;
  if (rtpTimestampOf(frame) !== undefined) return "(RTP: rate not known yet, measured from its timestamps)";
  return `(its rate not sent: taken as ${UNKNOWN_FPS_FALLBACK} fps)`;
}
