/**
 * Per-stream figures for the live view and /api/streams: what --stats counts
 * for the whole receiver, kept for each stream that delivery takes. A stream
 * with no frame for `silentAfterMs` is forgotten, so the table holds only the
 * live streams (and a page's tile goes when its sender stops).
 */
import type { FrameEvent } from "@udpcam/protocol";
import type { StreamFrameCounters } from "../ingest/messages.js";
import { LatencyWindow } from "./latency.js";

/** A stream with no frame for this long is gone from the list. */
export const STREAM_SILENT_AFTER_MS = 3_000;
/** Rates (fps, Mbit/s) are over this much of the recent past. */
const RATE_WINDOW_MS = 2_000;
/** Frames remembered for the rates: 2 s at 256 fps. */
const RATE_SAMPLES = 512;
/** Latency samples kept per stream (percentiles over the most recent). */
const LATENCY_SAMPLES = 1_024;

/** What /api/streams says about one stream. */
export interface StreamSnapshot {
  /** The stream id as 8 hex digits: the id in /streams/ID.* URLs. */
  readonly id: string;
  readonly streamId: number;
  readonly width: number;
  readonly height: number;
  readonly codec: string;
  /** The rate the sender announced (v1), or that its RTP timestamps step at (RTP, from the second frame); 0 = unknown. */
  readonly senderFps: number;
  /** Measured over the last 2 s. */
  readonly fps: number;
  readonly mbps: number;
  /** Frames taken by delivery, and their payload bytes. */
  readonly framesDelivered: number;
  readonly bytesDelivered: number;
  /** Frames the recording took (queued for its file or written; 0 with --output none, or a stream not recorded). */
  readonly framesRecorded: number;
  /**
   * From the reassembler (before the stream gate); 0 when it no longer tracks the stream. Datagrams: those read
   * carrying the stream's id, refused ones included (see `StreamFrameCounters`).
   */
  readonly datagramsReceived: number;
  readonly framesComplete: number;
  readonly framesRecovered: number;
  readonly framesDropped: number;
  /** Dropped of complete + dropped, in percent. */
  readonly frameLossPercent: number;
  /** Capture (sender's clock) to complete here, over the last 1,024 frames; undefined without a sender clock. */
  readonly latencyMs: { readonly p50: number | undefined; readonly p99: number | undefined };
  readonly lastFrameNumber: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
}

class StreamTrack {
  readonly latency = new LatencyWindow(LATENCY_SAMPLES);
  readonly #times = new Float64Array(RATE_SAMPLES);
  readonly #bytes = new Float64Array(RATE_SAMPLES);
  #next = 0;
  #filled = 0;
  frames = 0;
  bytes = 0;
  lastSeen: number;
  event: FrameEvent;

  constructor(
    event: FrameEvent,
    readonly firstSeen: number,
  ) {
    this.event = event;
    this.lastSeen = firstSeen;
  }

  add(event: FrameEvent, now: number): void {
    this.event = event;
    this.lastSeen = now;
    this.frames++;
    this.bytes += event.payload.byteLength;
    this.#times[this.#next] = now;
    this.#bytes[this.#next] = event.payload.byteLength;
    this.#next = (this.#next + 1) % RATE_SAMPLES;
    this.#filled = Math.min(this.#filled + 1, RATE_SAMPLES);
  }

  /** Frames and bytes per second over the window (or since the first frame, when younger). */
  rates(now: number): { fps: number; mbps: number } {
    let frames = 0;
    let bytes = 0;
    for (let i = 0; i < this.#filled; i++) {
      const at = (this.#next - 1 - i + RATE_SAMPLES) % RATE_SAMPLES;
      if (now - (this.#times[at] ?? 0) > RATE_WINDOW_MS) break;
      frames++;
      bytes += this.#bytes[at] ?? 0;
    }
    const seconds = Math.max(Math.min(RATE_WINDOW_MS, now - this.firstSeen), 250) / 1000;
    return { fps: frames / seconds, mbps: (bytes * 8) / seconds / 1e6 };
  }
}

export class StreamStats {
  readonly #streams = new Map<number, StreamTrack>();
  readonly #latencyListeners: ((ms: number) => void)[] = [];

  constructor(private readonly silentAfterMs = STREAM_SILENT_AFTER_MS) {}

  /** Called with every capture-to-complete latency (ms) delivery measures, e.g. for a histogram. */
  onLatency(listener: (ms: number) => void): void {
    this.#latencyListeners.push(listener);
  }

  /** One frame taken by delivery; `latencyMs` undefined when the format carries no capture time. */
  add(event: FrameEvent, now: number, latencyMs: number | undefined): void {
    let track = this.#streams.get(event.streamId);
    if (track === undefined) {
      track = new StreamTrack(event, now);
      this.#streams.set(event.streamId, track);
    }
    track.add(event, now);
    if (latencyMs !== undefined) {
      track.latency.add(latencyMs);
      for (const listener of this.#latencyListeners) listener(latencyMs);
    }
  }

  /** The live streams (silent ones forgotten), with the ingest thread's totals and the recording's frames per stream. */
  snapshot(
    now: number,
    ingest: readonly StreamFrameCounters[] = [],
    recorded: ReadonlyMap<number, number> = new Map(),
  ): StreamSnapshot[] {
    const fromIngest = new Map(ingest.map((counters) => [counters.streamId, counters]));
    const list: StreamSnapshot[] = [];
    for (const [streamId, track] of this.#streams) {
      if (now - track.lastSeen > this.silentAfterMs) {
        this.#streams.delete(streamId);
        continue;
      }
      const { width, height, codec, fps: senderFps, frameNumber } = track.event;
      const counters = fromIngest.get(streamId);
      const framesComplete = counters?.framesComplete ?? 0;
      const framesDropped = counters?.framesDropped ?? 0;
      const finished = framesComplete + framesDropped;
      list.push({
        id: streamHexId(streamId),
        streamId,
        width,
        height,
        codec,
        senderFps,
        ...track.rates(now),
        framesDelivered: track.frames,
        bytesDelivered: track.bytes,
        framesRecorded: recorded.get(streamId) ?? 0,
        datagramsReceived: counters?.datagramsReceived ?? 0,
        framesComplete,
        framesRecovered: counters?.framesRecovered ?? 0,
        framesDropped,
        frameLossPercent: finished === 0 ? 0 : (100 * framesDropped) / finished,
        latencyMs: { p50: track.latency.percentile(0.5), p99: track.latency.percentile(0.99) },
        lastFrameNumber: frameNumber,
        firstSeen: track.firstSeen,
        lastSeen: track.lastSeen,
      });
    }
    return list.sort((a, b) => a.firstSeen - b.firstSeen || a.streamId - b.streamId);
  }
}

/** A stream id as the 8 hex digits the logs and URLs use. */
export function streamHexId(streamId: number): string {
  return streamId.toString(16).padStart(8, "0");
}
