import { describe, expect, it } from "vitest";
import { createFrameState, markChunk } from "./frame-state.js";
import { createFrameStore, type FrameStore, type FrameStoreLimits, type StreamState } from "./frame-store.js";
import { decodeDatagram, type Datagram } from "./header.js";
import { packetizeFrame } from "./packetize.js";
import type { FrameEvent, ReassemblyEvent } from "./reassembly-events.js";

const LIMITS: FrameStoreLimits = {
  maxFramesInFlight: 2,
  maxStreams: 2,
  maxStreamsPerSource: 2,
  maxBufferedBytes: 1 << 20,
  frameTimeoutMs: 100,
  streamTimeoutMs: 1000,
  latencyMs: 100,
};

/** The first datagram of a 3,000-byte frame in 1,000-byte chunks, no parity. */
function first(streamId: number, frameNumber: number): Datagram {
  const frame = {
    streamId,
    frameNumber,
    codec: "jpeg",
    width: 64,
    height: 48,
    fps: 25,
    timestampMs: 0,
    payload: new Uint8Array(3000),
  } as const;
  return decodeDatagram(packetizeFrame(frame, { maxDatagramBytes: 1044, fecOverhead: 0 })[0]!);
}

function setup(limits: Partial<FrameStoreLimits> = {}): { store: FrameStore; counts: { framesDropped: number } } {
  const counts = { framesDropped: 0 };
  return { store: createFrameStore({ ...LIMITS, ...limits }, counts), counts };
}

/** The stream of `id`, which must be admitted. */
function streamOf(store: FrameStore, id: number, now: number, events: ReassemblyEvent[] = [], source?: string) {
  const stream = store.stream(id, now, source, events);
  if (typeof stream === "string") throw new Error(`stream ${id} refused (${stream})`);
  return stream;
}

/** Opens frame `n` of stream `id` at `now` with its first chunk placed. */
function open(
  store: FrameStore,
  id: number,
  n: number,
  now: number,
  events: ReassemblyEvent[] = [],
  source?: string,
): boolean {
  const d = first(id, n);
  const stream = streamOf(store, id, now, events, source);
  const frame = createFrameState(d, now);
  if (!store.open(stream, n, frame, events)) return false;
  expect(store.place(frame, d.chunkIndex, d.payload, events)).toBe(true);
  markChunk(frame, d.chunkIndex);
  return true;
}

describe("createFrameStore", () => {
  it("starts streams, past maxStreams replacing the oldest that has not completed a frame, with its frames", () => {
    const { store, counts } = setup();
    const events: ReassemblyEvent[] = [];
    open(store, 1, 0, 0, events);
    open(store, 2, 0, 5, events);
    streamOf(store, 2, 6, events);
    streamOf(store, 3, 7, events);
    expect(events).toEqual([
      { type: "stream-started", streamId: 1 },
      { type: "stream-started", streamId: 2 },
      { type: "dropped", streamId: 1, frameNumber: 0, reason: "evicted", chunksReceived: 1, chunkCount: 3 },
      { type: "stream-ended", streamId: 1, reason: "evicted" },
      { type: "stream-started", streamId: 3 },
    ]);
    expect(counts.framesDropped).toBe(1);
    expect(store.streams).toBe(2);
    expect(store.framesInFlight).toBe(1);
  });

  it("drops a stream's oldest frame past maxFramesInFlight, and refuses one older than all", () => {
    const { store, counts } = setup();
    const events: ReassemblyEvent[] = [];
    open(store, 1, 10, 0);
    open(store, 1, 11, 0);
    expect(open(store, 1, 5, 0, events)).toBe(false);
    expect(events).toEqual([
      { type: "dropped", streamId: 1, frameNumber: 5, reason: "overflow", chunksReceived: 1, chunkCount: 3 },
    ]);
    expect(open(store, 1, 12, 0, events)).toBe(true);
    expect(events[1]).toMatchObject({ frameNumber: 10, reason: "overflow" });
    expect(counts.framesDropped).toBe(2);
    const stream = streamOf(store, 1, 0);
    expect([store.outcome(stream, 5), store.outcome(stream, 10), store.outcome(stream, 11)]).toEqual([
      "dropped",
      "dropped",
      undefined,
    ]);
  });

  it("refuses a frame announcing more than maxBufferedBytes, and holds only what arrived", () => {
    const { store } = setup({ maxBufferedBytes: 2999 });
    expect(open(store, 1, 0, 0)).toBe(false);
    const roomy = setup({ maxBufferedBytes: 8000 }).store;
    expect(open(roomy, 1, 0, 0)).toBe(true);
    // One 1,000-byte chunk, its block's bookkeeping and the frame's: far from the 3,000 announced.
    expect(roomy.bufferedBytes).toBeGreaterThan(1000);
    expect(roomy.bufferedBytes).toBeLessThan(2000);
  });

  it("past the budget drops the oldest frame of the stream that holds the most", () => {
    const { store } = setup({ maxBufferedBytes: 5000 });
    const events: ReassemblyEvent[] = [];
    open(store, 1, 0, 0);
    open(store, 2, 0, 1);
    open(store, 2, 1, 2);
    expect(open(store, 1, 1, 3, events)).toBe(true);
    expect(events.filter((e) => e.type === "dropped")).toMatchObject([
      { streamId: 2, frameNumber: 0, reason: "overflow" },
    ]);
  });

  it("never replaces a stream that completed a frame: a newcomer is refused until it is idle", () => {
    const { store } = setup();
    const proven = (id: number, now: number): StreamState => {
      open(store, id, 0, now);
      const stream = streamOf(store, id, now);
      store.emit(stream, 0, stream.frames.get(0)!, { type: "frame" } as FrameEvent, []);
      return stream;
    };
    proven(1, 0);
    proven(2, 1);
    expect(store.stream(3, 2, undefined, [])).toBe("total");
    expect(store.expire(1000)).toEqual([{ type: "stream-ended", streamId: 1, reason: "idle" }]);
    expect(typeof store.stream(3, 1000, undefined, [])).toBe("object");
  });

  it("holds a source to maxStreamsPerSource: past it, it replaces only its own unproven streams", () => {
    const { store } = setup({ maxStreams: 4, maxStreamsPerSource: 2 });
    const events: ReassemblyEvent[] = [];
    open(store, 1, 0, 0, events, "real");
    for (let id = 100; id < 110; id++) open(store, id, 0, id, events, "forger");
    expect(store.streams).toBe(3);
    // The forger churned through its own two places; the real stream was never touched.
    expect(events.filter((e) => e.type === "stream-ended").map((e) => e.streamId)).toEqual([
      100, 101, 102, 103, 104, 105, 106, 107,
    ]);
    open(store, 2, 0, 200, events, "other");
    // Full (4): a fifth stream replaces an unproven stream of the source holding the most.
    open(store, 3, 0, 201, events, "third");
    expect(events.at(-2)).toEqual({ type: "stream-ended", streamId: 108, reason: "evicted" });
    expect(store.streams).toBe(4);
  });

  it("emits a frame, then drops the older ones it supersedes; later frames stay", () => {
    const { store } = setup({ maxFramesInFlight: 4 });
    for (const n of [1, 2, 3]) open(store, 7, n, 0);
    const stream = streamOf(store, 7, 0);
    const events: ReassemblyEvent[] = [];
    const event = { type: "frame" } as FrameEvent;
    store.emit(stream, 2, stream.frames.get(2)!, event, events);
    expect(events).toEqual([
      event,
      { type: "dropped", streamId: 7, frameNumber: 1, reason: "superseded", chunksReceived: 1, chunkCount: 3 },
    ]);
    expect([...stream.frames.keys()]).toEqual([3]);
    expect([
      store.outcome(stream, 2),
      store.outcome(stream, 1),
      store.outcome(stream, 0),
      store.outcome(stream, 4),
    ]).toEqual(["emitted", "dropped", "behind", undefined]);
  });

  it("expires frames past frameTimeoutMs and streams past streamTimeoutMs, remembering where they were", () => {
    const { store } = setup();
    open(store, 1, 0, 0);
    open(store, 1, 1, 50);
    expect(store.expire(100)).toEqual([
      { type: "dropped", streamId: 1, frameNumber: 0, reason: "timeout", chunksReceived: 1, chunkCount: 3 },
    ]);
    const stream = streamOf(store, 1, 100);
    store.emit(stream, 1, stream.frames.get(1)!, { type: "frame" } as FrameEvent, []);
    expect(store.expire(1100)).toEqual([{ type: "stream-ended", streamId: 1, reason: "idle" }]);
    expect(store.streams).toBe(0);
    expect(store.outcome(streamOf(store, 1, 1200), 1)).toBe("behind");
  });
});

/** A complete frame's event, as the reassembler makes it (only what the store reads). */
function frameEvent(streamId: number, frameNumber: number): FrameEvent {
  return { type: "frame", streamId, frameNumber, payload: new Uint8Array(8) } as FrameEvent;
}

/** Emits frame `n` of stream `id` (in flight) as complete; returns the events. */
function complete(store: FrameStore, id: number, n: number, now: number): ReassemblyEvent[] {
  const stream = streamOf(store, id, now);
  const events: ReassemblyEvent[] = [];
  store.emit(stream, n, stream.frames.get(n)!, frameEvent(id, n), events);
  return events;
}

describe("FrameStore.nextExpiryMs", () => {
  const dropped = (frameNumber: number) => ({ type: "dropped", streamId: 1, frameNumber, reason: "timeout" });
  // `next`: what the gauge says after `build`; `due`: when the first thing must go, and `leaves`: what goes then.
  const cases: {
    name: string;
    limits?: Partial<FrameStoreLimits>;
    build: (store: FrameStore) => void;
    next: number;
    due: number;
    leaves: object[];
  }[] = [
    {
      name: "a frame in flight times out frameTimeoutMs after its first datagram",
      build: (store) => open(store, 1, 0, 10),
      next: 110,
      due: 110,
      leaves: [dropped(0)],
    },
    {
      name: "an ordered stream's frame times out at latencyMs",
      limits: { ordered: true, latencyMs: 30 },
      build: (store) => open(store, 1, 0, 10),
      next: 40,
      due: 40,
      leaves: [dropped(0)],
    },
    {
      name: "a stream that turns ordered (window FEC): its frames in flight at latencyMs",
      limits: { latencyMs: 30 },
      build: (store) => {
        open(store, 1, 0, 10);
        open(store, 1, 1, 20);
        store.order(streamOf(store, 1, 25));
      },
      next: 40,
      due: 40,
      leaves: [dropped(0)],
    },
    {
      name: "a parked frame leaves when the older one it waits for times out, at its budget",
      limits: { ordered: true, latencyMs: 30, maxFramesInFlight: 4 },
      build: (store) => {
        open(store, 1, 0, 0);
        open(store, 1, 1, 5);
        expect(complete(store, 1, 1, 6)).toEqual([]);
      },
      next: 30,
      due: 30,
      leaves: [dropped(0), frameEvent(1, 1)],
    },
    {
      name: "a frame finished before its timeout: expire then finds nothing, and the next frame's is due",
      build: (store) => {
        open(store, 1, 0, 0);
        open(store, 1, 1, 50);
        expect(complete(store, 1, 0, 60)).toMatchObject([{ type: "frame", frameNumber: 0 }]);
      },
      next: 100,
      due: 150,
      leaves: [dropped(1)],
    },
    {
      name: "an idle stream is forgotten streamTimeoutMs after its last datagram, not its first",
      build: (store) => {
        streamOf(store, 1, 0);
        streamOf(store, 1, 400);
      },
      next: 1000,
      due: 1400,
      leaves: [{ type: "stream-ended", streamId: 1, reason: "idle" }],
    },
  ];
  it.each(cases)("$name", ({ limits, build, next, due, leaves }) => {
    const { store } = setup(limits);
    expect(store.nextExpiryMs).toBe(Number.POSITIVE_INFINITY);
    build(store);
    expect(store.nextExpiryMs).toBe(next);
    // Not early: just before it is due nothing goes, and the gauge then says exactly when.
    expect(store.expire(due - 0.001)).toEqual([]);
    expect(store.nextExpiryMs).toBe(due);
    expect(store.expire(due)).toMatchObject(leaves);
    expect(store.nextExpiryMs).toBeGreaterThan(due);
  });

  it("is Infinity again once every stream is forgotten", () => {
    const { store } = setup();
    open(store, 1, 0, 0);
    expect(store.expire(2000)).toMatchObject([
      { type: "dropped", reason: "evicted" },
      { type: "stream-ended", reason: "idle" },
    ]);
    expect(store.nextExpiryMs).toBe(Number.POSITIVE_INFINITY);
  });
});
