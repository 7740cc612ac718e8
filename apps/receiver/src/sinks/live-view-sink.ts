/**
 * The live view: the newest frame of every stream, as a JPEG, for the browser
 * viewers of the HTTP side (http/). It never queues: a frame replaces the one
 * before, and each viewer takes it or skips it (see http/viewers.ts). A JPEG
 * stream's bytes go out as they arrived; a raw stream is encoded once per frame
 * for all its viewers, off the event loop, and only while someone watches it.
 */
import type { Logger } from "@udpcam/appkit";
import type { FrameEvent } from "@udpcam/protocol";
import { encodeJpegAsync } from "@udpcam/video";
import type { DeliveredFrame, Sink } from "./sink.js";

/** A stream with no frame for this long and no viewer is forgotten, its newest frame with it. */
const FORGET_SILENT_AFTER_MS = 3_000;

/** A frame as viewers get it. */
export interface LiveFrame {
  readonly streamId: number;
  readonly frameNumber: number;
  /** The sender's capture time, ms since the epoch. */
  readonly captureTime: number;
  readonly width: number;
  readonly height: number;
  readonly jpeg: Uint8Array;
}

/** One viewer of one stream: given every new frame, it sends it or skips it, and never waits. */
export interface LiveViewer {
  offer(frame: LiveFrame): void;
}

interface LiveStream {
  latest: LiveFrame | undefined;
  /** Its frames are raw BGR (encoded only while watched). */
  raw: boolean;
  /** When its last frame was delivered here (this clock). */
  lastFrameAt: number;
  readonly viewers: Set<LiveViewer>;
  /** A raw frame waits here while the previous one is being encoded (only the newest waits). */
  pendingRaw: DeliveredFrame | undefined;
  encoding: boolean;
}

export interface LiveViewCounters {
  /** Raw frames encoded to JPEG for viewers. */
  framesEncoded: number;
  /** Raw frames not encoded because the previous encode was still running. */
  framesEncodeSkipped: number;
  framesEncodeFailed: number;
}

export class LiveViewSink implements Sink {
  readonly name = "live-view";
  readonly counters: LiveViewCounters = { framesEncoded: 0, framesEncodeSkipped: 0, framesEncodeFailed: 0 };
  readonly #streams = new Map<number, LiveStream>();
  readonly #encodes = new Set<Promise<void>>();
  readonly #closeHandlers: (() => Promise<void>)[] = [];
  #closed = false;

  constructor(
    private readonly quality: number,
    private readonly logger: Logger,
  ) {}

  accepts(): boolean {
    return !this.#closed;
  }

  /** Resolves at once: a JPEG is published as it is, a raw frame's encode runs on its own. */
  deliver(frame: DeliveredFrame): Promise<void> {
    const { event } = frame;
    const now = Date.now();
    this.#forgetSilent(now);
    const stream = this.#stream(event.streamId);
    stream.lastFrameAt = now;
    stream.raw = event.codec !== "jpeg";
    if (!stream.raw) {
      this.#publish(stream, liveFrame(event, frame.captureTime, event.payload));
    } else if (stream.viewers.size > 0) {
      if (stream.encoding) {
        if (stream.pendingRaw !== undefined) this.counters.framesEncodeSkipped++;
        stream.pendingRaw = frame;
      } else {
        this.#encode(stream, frame);
      }
    }
    return Promise.resolve();
  }

  /** The newest frame of a stream, if one was published (a raw stream's only while watched). */
  latest(streamId: number): LiveFrame | undefined {
    return this.#streams.get(streamId)?.latest;
  }

  /** Adds a viewer; it gets the newest frame at once if there is one. Returns the unsubscribe. */
  watch(streamId: number, viewer: LiveViewer): () => void {
    const stream = this.#stream(streamId);
    stream.viewers.add(viewer);
    if (stream.latest !== undefined) viewer.offer(stream.latest);
    return () => {
      stream.viewers.delete(viewer);
      // Unwatched, a raw stream is no longer encoded: its newest JPEG would only grow old.
      if (stream.viewers.size === 0 && stream.raw) stream.latest = undefined;
    };
  }

  /** Viewers now, per stream id. */
  viewerCounts(): Map<number, number> {
    return new Map([...this.#streams].map(([streamId, stream]) => [streamId, stream.viewers.size]));
  }

  /** Run at close, after the last frame (the HTTP server closes its viewers here). */
  onClose(handler: () => Promise<void>): void {
    this.#closeHandlers.push(handler);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#encodes]);
    await Promise.all(this.#closeHandlers.map((handler) => handler()));
    this.#streams.clear();
  }

  #stream(streamId: number): LiveStream {
    let stream = this.#streams.get(streamId);
    if (stream === undefined) {
      stream = {
        latest: undefined,
        raw: false,
        lastFrameAt: Date.now(),
        viewers: new Set(),
        pendingRaw: undefined,
        encoding: false,
      };
      this.#streams.set(streamId, stream);
    }
    return stream;
  }

  #forgetSilent(now: number): void {
    for (const [streamId, stream] of this.#streams) {
      if (now - stream.lastFrameAt > FORGET_SILENT_AFTER_MS && stream.viewers.size === 0 && !stream.encoding)
        this.#streams.delete(streamId);
    }
  }

  #publish(stream: LiveStream, frame: LiveFrame): void {
    stream.latest = frame;
    for (const viewer of stream.viewers) viewer.offer(frame);
  }

  #encode(stream: LiveStream, frame: DeliveredFrame): void {
    stream.encoding = true;
    const done = (async () => {
      let next: DeliveredFrame | undefined = frame;
      while (next !== undefined && stream.viewers.size > 0) {
        const current: DeliveredFrame = next;
        stream.pendingRaw = undefined;
        try {
          const pixels = await current.pixels();
          const jpeg = await encodeJpegAsync(pixels, this.quality);
          this.counters.framesEncoded++;
          this.#publish(stream, liveFrame(current.event, current.captureTime, jpeg));
        } catch (error) {
          this.counters.framesEncodeFailed++;
          this.logger.debug({ err: error }, "encoding a raw frame for viewers failed");
        }
        next = stream.pendingRaw;
      }
      stream.pendingRaw = undefined;
      stream.encoding = false;
    })();
    this.#encodes.add(done);
    void done.finally(() => this.#encodes.delete(done));
  }
}

function liveFrame(event: FrameEvent, captureTime: number, jpeg: Uint8Array): LiveFrame {
  return {
    streamId: event.streamId,
    frameNumber: event.frameNumber,
    captureTime,
    width: event.width,
    height: event.height,
    jpeg,
  };
}
