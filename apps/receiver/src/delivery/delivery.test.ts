import { createLogger } from "@udpcam/appkit";
import { Codec, type FrameEvent } from "@udpcam/protocol";
import { encodeJpeg, type Frame } from "@udpcam/video";
import { renderPatternFrame } from "@udpcam/video";
import { readPatternFrameNumber } from "@udpcam/video/testing";
import { describe, expect, it } from "vitest";
import type { DeliveredFrame, Sink } from "../sinks/sink.js";
import { emptyReceiverStats } from "../stats.js";
import { Delivery, type DeliveryOptions } from "./delivery.js";

const logger = createLogger({ name: "test", level: "silent", format: "json", colors: false });

function jpegEvent(streamId: number, frameNumber: number): FrameEvent {
  const payload = encodeJpeg(renderPatternFrame(frameNumber, 320, 240), 90);
  return {
    type: "frame",
    streamId,
    frameNumber,
    codec: Codec.Jpeg,
    width: 320,
    height: 240,
    fps: 0,
    timestampMs: 1_000,
    payload,
    recovered: false,
    firstArrivalMs: 0,
  };
}

/** A sink that asks for pixels and holds each delivery until `release()`. */
class HeldSink implements Sink {
  readonly frames: { number: number; pixels: Frame; shared: Promise<Frame> }[] = [];
  #release: (() => void)[] = [];
  held = true;
  closed = false;
  constructor(
    readonly name: string,
    private readonly streams?: readonly number[],
  ) {}
  accepts(event: FrameEvent): boolean {
    return this.streams === undefined || this.streams.includes(event.streamId);
  }
  async deliver(frame: DeliveredFrame): Promise<void> {
    const shared = frame.pixels();
    this.frames.push({ number: frame.event.frameNumber, pixels: await shared, shared });
    if (this.held) await new Promise<void>((resolve) => this.#release.push(resolve));
  }
  release(): void {
    this.held = false;
    for (const wake of this.#release.splice(0)) wake();
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

function delivery(sinks: Sink[], options: Partial<DeliveryOptions> = {}) {
  const stats = emptyReceiverStats(0);
  const failures: unknown[] = [];
  const d = new Delivery(
    sinks,
    stats,
    {
      streams: "separate",
      maxStreams: 8,
      frameLimit: undefined,
      onLimit: () => undefined,
      onFailure: (e) => failures.push(e),
      ...options,
    },
    logger,
  );
  return { d, stats, failures };
}

const ingested = (frame: FrameEvent, completedAt = 1_010) => ({ frame, senderClock: true, completedAt });

describe("Delivery", () => {
  it("hands every frame to every sink, decoding a JPEG once for all of them", async () => {
    const a = new HeldSink("a");
    const b = new HeldSink("b");
    a.release();
    b.release();
    const { d, stats } = delivery([a, b]);
    for (let n = 0; n < 3; n++) d.accept(ingested(jpegEvent(1, n)));
    await d.close();
    expect(a.frames.map((f) => readPatternFrameNumber(f.pixels))).toEqual([0, 1, 2]);
    expect(b.frames.map((f) => f.number)).toEqual([0, 1, 2]);
    for (let n = 0; n < 3; n++) expect(a.frames[n]?.shared).toBe(b.frames[n]?.shared);
    expect(stats.framesDelivered).toBe(3);
    expect(stats.framesSkippedBusy).toBe(0);
    expect(a.closed && b.closed).toBe(true);
    expect(d.latency.percentile(0.5)).toBe(10);
  });

  it("skips whole frames for a stuck sink while another sink gets every frame", async () => {
    const stuck = new HeldSink("stuck");
    const fast = new HeldSink("fast");
    fast.release();
    const { d, stats } = delivery([stuck, fast]);
    // Frames arrive over time, as from a camera: the fast sink keeps up, the stuck one cannot.
    for (let n = 0; n < 40; n++) {
      d.accept(ingested(jpegEvent(1, n)));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fast.frames.map((f) => f.number)).toEqual(Array.from({ length: 40 }, (_, n) => n));
    const counters = d.sinkCounters();
    expect(counters["stuck"]?.skipped).toBe(40 - 32);
    stuck.release();
    await d.close();
    expect(stuck.frames.map((f) => f.number)).toEqual(Array.from({ length: 32 }, (_, n) => n));
    expect(d.sinkCounters()["stuck"]).toEqual({ delivered: 32, skipped: 8, undecodable: 0 });
    expect(stats.framesSkippedBusy).toBe(8);
  });

  it("counts a payload that is not a JPEG as undecodable, once, and goes on", async () => {
    const a = new HeldSink("a");
    const b = new HeldSink("b");
    a.release();
    b.release();
    const { d, stats, failures } = delivery([a, b]);
    d.accept(ingested({ ...jpegEvent(1, 0), payload: new Uint8Array([1, 2, 3]) }));
    d.accept(ingested(jpegEvent(1, 1)));
    await d.close();
    expect(stats.framesUndecodable).toBe(1);
    expect(stats.framesDelivered).toBe(1);
    expect(a.frames.map((f) => f.number)).toEqual([1]);
    expect(failures).toEqual([]);
  });

  it("gives each sink only the streams it accepts, and tells sinks about new streams", async () => {
    const only2 = new HeldSink("only2", [2]);
    only2.release();
    const started: [number, number | undefined][] = [];
    const watcher: Sink = {
      name: "watcher",
      accepts: () => false,
      deliver: () => Promise.resolve(),
      close: () => Promise.resolve(),
      streamStarted: (id, replaces) => started.push([id, replaces]),
    };
    const { d, stats } = delivery([only2, watcher]);
    d.accept(ingested(jpegEvent(1, 0)));
    d.accept(ingested(jpegEvent(2, 5)));
    d.accept(ingested(jpegEvent(1, 1)));
    await d.close();
    expect(only2.frames.map((f) => f.number)).toEqual([5]);
    expect(started).toEqual([
      [1, undefined],
      [2, undefined],
    ]);
    expect(stats.streamsSeen).toBe(2);
  });

  it("under --streams first refuses a second live stream", async () => {
    const a = new HeldSink("a");
    a.release();
    const { d, stats } = delivery([a], { streams: "first" });
    d.accept(ingested(jpegEvent(1, 0), 0));
    d.accept(ingested(jpegEvent(2, 0), 100));
    d.accept(ingested(jpegEvent(1, 1), 200));
    await d.close();
    expect(a.frames.map((f) => f.number)).toEqual([0, 1]);
    expect(stats.streamsRefused).toBe(1);
  });

  it("under --streams separate takes at most --max-streams at once, and says so in one line per 10 s", async () => {
    const a = new HeldSink("a");
    a.release();
    const lines: string[] = [];
    const capture = createLogger({
      name: "test",
      level: "warn",
      format: "json",
      colors: false,
      destination: { write: (line: string) => lines.push(line) },
    });
    const stats = emptyReceiverStats(0);
    const options = { streams: "separate", maxStreams: 2, frameLimit: undefined } as const;
    const d = new Delivery([a], stats, { ...options, onLimit: () => undefined, onFailure: () => undefined }, capture);
    const event = jpegEvent(1, 0);
    for (let id = 1; id <= 50; id++) d.accept(ingested({ ...event, streamId: id }, 100 + id));
    await d.close();
    expect(a.frames).toHaveLength(2);
    expect(stats).toMatchObject({ streamsSeen: 2, streamsRefused: 48 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/refusing stream 00000003: 2 streams \(--max-streams\) are being recorded/);
  });

  it("logs an RTP stream as of a rate not known yet, then its rate at its 4th frame; a v1 stream's at once", async () => {
    const a = new HeldSink("a");
    a.release();
    const lines: string[] = [];
    const capture = createLogger({
      name: "test",
      level: "info",
      format: "json",
      colors: false,
      destination: { write: (line: string) => lines.push(line) },
    });
    const options = { streams: "separate", maxStreams: 4, frameLimit: undefined } as const;
    const d = new Delivery(
      [a],
      emptyReceiverStats(0),
      { ...options, onLimit: () => undefined, onFailure: () => undefined },
      capture,
    );
    // As the ingest measures an RTP stream: 0 at its first frame, then from its steps; a stream that never steps.
    const rtp = (id: number, n: number, fps: number) => Object.assign(jpegEvent(id, n), { fps, rtpTimestamp: 0 });
    for (const [n, fps] of [0, 29.85, 30, 30, 30].entries()) d.accept(ingested(rtp(1, n, fps)));
    for (let n = 0; n < 5; n++) d.accept(ingested(rtp(2, n, 0)));
    d.accept(ingested({ ...jpegEvent(3, 0), fps: 25 }));
    for (let n = 0; n < 5; n++) d.accept(ingested({ ...jpegEvent(4, n), fps: 0 }));
    await d.close();
    const messages = lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).toEqual([
      "new stream 00000001: 320x240 jpeg (RTP: rate not known yet, measured from its timestamps)",
      "stream 00000001: 30 fps, from its RTP timestamps",
      "new stream 00000002: 320x240 jpeg (RTP: rate not known yet, measured from its timestamps)",
      "stream 00000002: rate unknown, its RTP timestamps do not step",
      "new stream 00000003: 320x240 jpeg at 25 fps",
      "new stream 00000004: 320x240 jpeg (its rate not sent: taken as 25 fps)",
    ]);
  });

  it("stops taking frames at --frames and says so once they are delivered", async () => {
    const a = new HeldSink("a");
    a.release();
    let limits = 0;
    const { d, stats } = delivery([a], { frameLimit: 3, onLimit: () => limits++ });
    for (let n = 0; n < 6; n++) d.accept(ingested(jpegEvent(1, n)));
    await d.close();
    expect(a.frames.map((f) => f.number)).toEqual([0, 1, 2]);
    expect(stats.framesDelivered).toBe(3);
    expect(limits).toBe(1);
  });

  it("bounds a sink's queue in bytes as well as frames", async () => {
    const stuck = new HeldSink("stuck");
    const { d } = delivery([stuck]);
    const big = (n: number): FrameEvent => ({ ...jpegEvent(1, n), payload: new Uint8Array(50 << 20) });
    for (let n = 0; n < 5; n++) d.accept(ingested(big(n)));
    // 128 MB holds two frames of 50 MB (the one being delivered counts): the other three are skipped.
    expect(d.sinkCounters()["stuck"]?.skipped).toBe(3);
    stuck.release();
    await d.close();
  });

  it("counts the frames a sink holds itself (the recording's, before an RTP stream's rate is known) as waiting", async () => {
    const stuck = new HeldSink("stuck");
    const holding = Object.assign(stuck, { heldFrames: { frames: 30, bytes: 30 << 20 } });
    const { d } = delivery([holding]);
    for (let n = 0; n < 5; n++) d.accept(ingested(jpegEvent(1, n)));
    // 32 frames may wait: 30 held and the first two queued; the other three are skipped.
    expect(d.sinkCounters()["stuck"]?.skipped).toBe(3);
    stuck.release();
    await d.close();
    expect(stuck.frames.map((f) => f.number)).toEqual([0, 1]);
  });

  it("lets a sink fall half a second behind a fast stream before it skips", async () => {
    const stuck = new HeldSink("stuck");
    const { d } = delivery([stuck]);
    for (let n = 0; n < 60; n++) d.accept(ingested({ ...jpegEvent(1, n), fps: 100 }));
    expect(d.sinkCounters()["stuck"]?.skipped).toBe(60 - 50);
    stuck.release();
    await d.close();
  });

  it("stops the app when a sink fails for a reason that is not the frame's", async () => {
    const broken: Sink = {
      name: "broken",
      accepts: () => true,
      deliver: () => Promise.reject(new Error("disk full")),
      close: () => Promise.resolve(),
    };
    const { d, failures } = delivery([broken]);
    d.accept(ingested(jpegEvent(1, 0)));
    await d.close();
    expect(failures.map((e) => (e as Error).message)).toEqual(["disk full"]);
  });

  describe("reusing frames' buffers (recycle)", () => {
    const rawEvent = (frameNumber: number): FrameEvent => ({
      type: "frame",
      streamId: 1,
      frameNumber,
      codec: Codec.RawBgr24,
      width: 4,
      height: 2,
      fps: 25,
      timestampMs: 1_000,
      payload: new Uint8Array(24).fill(frameNumber),
      recovered: false,
      firstArrivalMs: 0,
    });

    /** A sink that keeps each raw frame's bytes past deliver (a hold, or not), releasing on demand. */
    class KeepingSink implements Sink {
      readonly name = "keeping";
      readonly seen: Uint8Array[] = [];
      readonly #releases: (() => void)[] = [];
      constructor(
        readonly releasesFrames: boolean | undefined,
        private readonly holds: boolean,
      ) {}
      accepts(): boolean {
        return true;
      }
      deliver(frame: DeliveredFrame): Promise<void> {
        this.seen.push(frame.event.payload);
        if (this.holds) this.#releases.push(frame.hold());
        return Promise.resolve();
      }
      releaseAll(): void {
        for (const release of this.#releases.splice(0)) {
          release();
          release(); // twice is harmless
        }
      }
      close(): Promise<void> {
        return Promise.resolve();
      }
    }

    const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10));

    it("hands a raw frame's payload back only once every sink that took it released it", async () => {
      const recycled: Uint8Array[] = [];
      const holding = new KeepingSink(true, true);
      const plain = new KeepingSink(true, false);
      const { d } = delivery([holding, plain], { recycle: (payload) => recycled.push(payload) });
      const event = rawEvent(1);
      d.accept(ingested(event));
      await settle();
      expect(plain.seen).toEqual([event.payload]);
      expect(recycled).toEqual([]); // the holding sink still has it
      holding.releaseAll();
      await settle();
      expect(recycled).toHaveLength(1);
      expect(recycled[0]).toBe(event.payload);
      await d.close();
    });

    it("never hands back a frame a sink may keep (releasesFrames unset)", async () => {
      const recycled: Uint8Array[] = [];
      const keeper = new KeepingSink(undefined, false);
      const releasing = new KeepingSink(true, false);
      const { d } = delivery([keeper, releasing], { recycle: (payload) => recycled.push(payload) });
      d.accept(ingested(rawEvent(2)));
      d.accept(ingested(jpegEvent(1, 0)));
      await settle();
      expect(keeper.seen).toHaveLength(2);
      expect(recycled).toEqual([]);
      await d.close();
    });

    it("hands a JPEG frame's payload back too, once released", async () => {
      const recycled: Uint8Array[] = [];
      const holding = new KeepingSink(true, true);
      const { d } = delivery([holding], { recycle: (payload) => recycled.push(payload) });
      const event = jpegEvent(1, 0);
      d.accept(ingested(event));
      await settle();
      expect(recycled).toEqual([]);
      holding.releaseAll();
      await settle();
      expect(recycled).toEqual([event.payload]);
      await d.close();
    });

    it("hands back at once a raw frame no sink takes (the stream refused, or past --frames)", async () => {
      const recycled: Uint8Array[] = [];
      const { d } = delivery([], { frameLimit: 1, recycle: (payload) => recycled.push(payload) });
      d.accept(ingested(rawEvent(3)));
      d.accept(ingested(rawEvent(4)));
      await settle();
      expect(recycled.map((p) => p[0]).sort()).toEqual([3, 4]);
      await d.close();
    });
  });
});
