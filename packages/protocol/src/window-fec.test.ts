import { describe, expect, it } from "vitest";
import type { Authenticator } from "./auth.js";
import { decodeDatagram, FLAG_WINDOW, Offset } from "./header.js";
import { packetizeFrame } from "./packetize.js";
import { createReassembler, WINDOW_BUDGET_SHARE, type Reassembler, type ReassemblerOptions } from "./reassembler.js";
import type { FrameEvent } from "./reassembly-events.js";
import { toyAuthenticator } from "./testing/fuzz.js";
import { firstDifference, prng, randomBytes, shuffle } from "./testing/random.js";
import { createWindowFecEncoder, looksLikeRepair, REPAIR_HEADER_BYTES, tryDecodeRepair } from "./window-fec.js";

const STREAM = 0x1234_5678;
const FRAME_MS = 40;

interface Sent {
  readonly frames: Uint8Array[];
  /** Every datagram in send order, with the time it left. */
  readonly datagrams: { bytes: Uint8Array; atMs: number; frame: number }[];
}

/** Frames of about 19 datagrams (a 640x480 JPEG), window FEC at `overhead`, 2 ms apart like the pacer. */
function send(
  count: number,
  options: {
    seed?: number;
    overhead?: number;
    windowMs?: number;
    firstSequence?: number;
    firstFrame?: number;
    authenticator?: Authenticator;
  } = {},
): Sent {
  const random = prng(options.seed ?? 1);
  const encoder = createWindowFecEncoder({
    streamId: STREAM,
    overhead: options.overhead ?? 0.15,
    windowMs: options.windowMs ?? 100,
    firstSequence: options.firstSequence ?? 0,
    ...(options.authenticator ? { authenticator: options.authenticator } : {}),
  });
  const frames: Uint8Array[] = [];
  const datagrams: Sent["datagrams"] = [];
  for (let f = 0; f < count; f++) {
    const payload = randomBytes(random, 24_000 + Math.floor(random() * 6000));
    frames.push(payload);
    const nowMs = f * FRAME_MS;
    const sources = packetizeFrame(
      {
        streamId: STREAM,
        frameNumber: ((options.firstFrame ?? 0) + f) >>> 0,
        codec: "jpeg",
        width: 640,
        height: 480,
        fps: 25,
        timestampMs: 1_700_000_000_000 + nowMs,
        payload,
      },
      {
        fecOverhead: 0,
        windowSequence: encoder.nextSequence,
        ...(options.authenticator ? { authenticator: options.authenticator } : {}),
      },
    );
    encoder.protect(sources, nowMs).forEach((bytes, i) => datagrams.push({ bytes, atMs: nowMs + i * 1.5, frame: f }));
  }
  return { frames, datagrams };
}

/** Pushes what survives `lose`, in order, calling expire as time passes; the frames emitted. */
function receive(
  sent: Sent,
  lose: (index: number) => boolean,
  options: ReassemblerOptions = {},
  order: (items: Sent["datagrams"]) => Sent["datagrams"] = (items) => items,
): { frames: FrameEvent[]; reassembler: Reassembler; emittedAt: number[] } {
  const reassembler = createReassembler({ latencyMs: 100, ...options });
  const frames: FrameEvent[] = [];
  const emittedAt: number[] = [];
  const take = (events: ReturnType<Reassembler["push"]>, nowMs: number): void => {
    for (const e of events)
      if (e.type === "frame") {
        frames.push(e);
        emittedAt.push(nowMs);
      }
  };
  const survivors = order(sent.datagrams.filter((_, i) => !lose(i)));
  for (const d of survivors) {
    take(reassembler.expire(d.atMs), d.atMs);
    take(reassembler.push(d.bytes, d.atMs), d.atMs);
  }
  const end = sent.datagrams[sent.datagrams.length - 1]!.atMs;
  for (let t = end; t <= end + 1000; t += 10) take(reassembler.expire(t), t);
  return { frames, reassembler, emittedAt };
}

/**
 * As `receive`, but `expire` is called only when `nextExpiryMs` says (a receiver's one timer, firing on time):
 * the frames emitted, when, and how often `expire` ran.
 */
function receiveTimed(
  sent: Sent,
  lose: (index: number) => boolean,
  options: ReassemblerOptions = {},
): { frames: FrameEvent[]; emittedAt: number[]; expiries: number } {
  const reassembler = createReassembler({ latencyMs: 100, ...options });
  const frames: FrameEvent[] = [];
  const emittedAt: number[] = [];
  let expiries = 0;
  const take = (events: ReturnType<Reassembler["push"]>, nowMs: number): void => {
    for (const e of events)
      if (e.type === "frame") {
        frames.push(e);
        emittedAt.push(nowMs);
      }
  };
  const fire = (): void => {
    const at = reassembler.nextExpiryMs;
    expiries++;
    take(reassembler.expire(at), at);
  };
  for (const d of sent.datagrams.filter((_, i) => !lose(i))) {
    while (reassembler.nextExpiryMs <= d.atMs) fire();
    take(reassembler.push(d.bytes, d.atMs), d.atMs);
  }
  // Until the stream is forgotten (bounded: a gauge that never settled fails the test).
  for (let k = 0; k < 50 && Number.isFinite(reassembler.nextExpiryMs); k++) fire();
  expect(reassembler.nextExpiryMs).toBe(Number.POSITIVE_INFINITY);
  return { frames, emittedAt, expiries };
}

/** Every frame emitted is one the sender sent, byte for byte, each once and in order. */
function expectIntactInOrder(sent: Sent, frames: FrameEvent[], firstFrame = 0): void {
  let last = -1;
  for (const f of frames) {
    const index = (f.frameNumber - firstFrame) >>> 0;
    expect(index).toBeGreaterThan(last);
    last = index;
    expect(firstDifference(f.payload, sent.frames[index]!)).toBe(-1);
  }
}

/** Source (not repair) datagrams among sent datagrams [from, to). */
function lostSources(sent: Sent, from: number, to: number): number {
  return sent.datagrams.slice(from, to).filter((d) => !looksLikeRepair(d.bytes)).length;
}

describe("window FEC: wire", () => {
  it("source datagrams carry flag W and consecutive sequence numbers; repairs carry their window", () => {
    const sent = send(3, { firstSequence: 7 });
    const sources = sent.datagrams.filter((d) => !looksLikeRepair(d.bytes));
    sources.forEach((d, i) => {
      expect(d.bytes[Offset.flags]! & FLAG_WINDOW).toBe(FLAG_WINDOW);
      expect(decodeDatagram(d.bytes).windowSequence).toBe(7 + i);
      expect(d.bytes.length).toBeLessThanOrEqual(1472 - REPAIR_HEADER_BYTES);
    });
    const repairs = sent.datagrams.filter((d) => looksLikeRepair(d.bytes));
    expect(repairs.length / sources.length).toBeCloseTo(0.15, 1);
    for (const r of repairs) {
      expect(r.bytes.length).toBeLessThanOrEqual(1472);
      const decoded = tryDecodeRepair(r.bytes);
      expect("symbol" in decoded).toBe(true);
    }
    // An old receiver refuses both as a reserved flag.
    expect(() => decodeDatagram(repairs[0]!.bytes)).toThrow();
  });
});

describe("window FEC: recovery", () => {
  it("rebuilds a burst of 4 that crosses a frame boundary, and emits both frames whole, in order", () => {
    const sent = send(10);
    const boundary = sent.datagrams.findIndex((d) => d.frame === 4);
    const { frames, reassembler } = receive(sent, (i) => i >= boundary - 2 && i < boundary + 2);
    expect(frames.map((f) => f.frameNumber)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expectIntactInOrder(sent, frames);
    expect(reassembler.counters.sourcesRecovered).toBe(lostSources(sent, boundary - 2, boundary + 2));
  });

  it("a burst of 10 sources needs the repairs of the frames after it: within a 200 ms budget, not within 100 ms", () => {
    // About 3 repairs a frame at 15%: its own and the next frame's are 6, within 100 ms of its first datagram.
    const lose = (sent: Sent) => {
      const first = sent.datagrams.findIndex((d) => d.frame === 3) + 4;
      return (i: number): boolean => i >= first && i < first + 10;
    };
    const short = send(10);
    expect(receive(short, lose(short)).frames.map((f) => f.frameNumber)).not.toContain(3);
    // The sender's window as long as the budget, so that repairs 200 ms on still cover the burst.
    const sent = send(10, { windowMs: 200 });
    const { frames, reassembler } = receive(sent, lose(sent), { latencyMs: 200 });
    expect(frames.map((f) => f.frameNumber)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expectIntactInOrder(sent, frames);
    const first = sent.datagrams.findIndex((d) => d.frame === 3) + 4;
    expect(lostSources(sent, first, first + 10)).toBe(10);
    expect(reassembler.counters.sourcesRecovered).toBe(10);
  });

  it("expiry only when nextExpiryMs says: the frames parked behind a lost frame leave at its budget, not later", () => {
    // 10 sources of frame 3 lost: beyond what repairs within 100 ms rebuild (as above).
    const sent = send(10);
    const first = sent.datagrams.findIndex((d) => d.frame === 3);
    const lose = (i: number): boolean => i >= first + 4 && i < first + 14;
    const polled = receive(sent, lose);
    const timed = receiveTimed(sent, lose);
    expect(timed.frames.map((f) => f.frameNumber)).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9]);
    expect(timed.frames.map((f) => f.frameNumber)).toEqual(polled.frames.map((f) => f.frameNumber));
    expectIntactInOrder(sent, timed.frames);
    // Frame 3's first datagram came at 120 ms: frame 4, complete by then, leaves at 220 ms exactly.
    expect(sent.datagrams[first]!.atMs).toBe(120);
    expect(timed.emittedAt[3]).toBe(220);
    expect(polled.emittedAt[3]).toBeGreaterThanOrEqual(220);
    // Never later than polling on every datagram and every 10 ms.
    timed.emittedAt.forEach((t, i) => expect(t).toBeLessThanOrEqual(polled.emittedAt[i]!));
    // A timer that fires about once a frame, not every 10 ms.
    expect(timed.expiries).toBeLessThanOrEqual(10);
  });

  it("a frame's repairs follow its last source: every frame ends with a repair, at the same overhead", () => {
    const sent = send(40, { seed: 2 });
    for (let f = 0; f < 40; f++) {
      const own = sent.datagrams.filter((d) => d.frame === f);
      const firstRepair = own.findIndex((d) => looksLikeRepair(d.bytes));
      expect(firstRepair, `frame ${f}`).toBeGreaterThan(0);
      // Sources first, then the frame's repairs: none before its last source.
      expect(
        own.slice(firstRepair).every((d) => looksLikeRepair(d.bytes)),
        `frame ${f}`,
      ).toBe(true);
    }
    const repairs = sent.datagrams.filter((d) => looksLikeRepair(d.bytes)).length;
    const sources = sent.datagrams.length - repairs;
    // Credit carried from frame to frame: 15% of the sources, rounded up once.
    expect(repairs).toBeGreaterThanOrEqual(Math.floor(sources * 0.15));
    expect(repairs).toBeLessThanOrEqual(Math.ceil(sources * 0.15) + 1);
  });

  it("a frame of more than maxWindow sources gets repairs after each run of maxWindow, each run's rebuilt", () => {
    const encoder = createWindowFecEncoder({ streamId: STREAM, overhead: 0.25, windowMs: 100, maxWindow: 8 });
    const payload = randomBytes(prng(4), 27_000);
    const sources = packetizeFrame(
      { streamId: STREAM, frameNumber: 0, codec: "jpeg", width: 640, height: 480, fps: 25, timestampMs: 0, payload },
      { fecOverhead: 0, windowSequence: encoder.nextSequence },
    );
    expect(sources.length).toBeGreaterThan(16);
    const out = encoder.protect(sources, 0);
    // Sources before each repair: 8, 16, then all of them.
    const before = out.flatMap((d, i) =>
      looksLikeRepair(d) ? [out.slice(0, i).filter((s) => !looksLikeRepair(s)).length] : [],
    );
    expect(new Set(before)).toEqual(new Set([8, 16, sources.length]));
    // One source lost in each run: each is rebuilt by the repairs after its run.
    const lost = new Set([
      out.indexOf(sources[2]!),
      out.indexOf(sources[12]!),
      out.indexOf(sources[sources.length - 1]!),
    ]);
    const sent: Sent = { frames: [payload], datagrams: out.map((bytes) => ({ bytes, atMs: 0, frame: 0 })) };
    const { frames, reassembler } = receive(sent, (i) => lost.has(i));
    expect(frames).toHaveLength(1);
    expectIntactInOrder(sent, frames);
    expect(reassembler.counters.sourcesRecovered).toBe(3);
  });

  it("a loss among a frame's last sources is rebuilt from its own repairs, before the next frame is sent", () => {
    const sent = send(10);
    const next = sent.datagrams.findIndex((d) => d.frame === 5);
    const lastSource = sent.datagrams.findLastIndex((d) => d.frame === 4 && !looksLikeRepair(d.bytes));
    const lost = new Set([lastSource - 1, lastSource]);
    const { frames, emittedAt, reassembler } = receive(sent, (i) => lost.has(i));
    expect(frames.map((f) => f.frameNumber)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expectIntactInOrder(sent, frames);
    expect(reassembler.counters.sourcesRecovered).toBe(2);
    expect(emittedAt[4]).toBeLessThan(sent.datagrams[next]!.atMs);
  });

  it("the end of a stream: losses among the last frame's last sources are rebuilt", () => {
    const sent = send(6, { seed: 9 });
    const lastSource = sent.datagrams.findLastIndex((d) => !looksLikeRepair(d.bytes));
    const { frames } = receive(sent, (i) => i === lastSource || i === lastSource - 2);
    expect(frames.map((f) => f.frameNumber)).toEqual([0, 1, 2, 3, 4, 5]);
    expectIntactInOrder(sent, frames);
  });

  it("rebuilds independent 1% loss completely", () => {
    const sent = send(250, { seed: 3 });
    const random = prng(99);
    const { frames } = receive(sent, () => random() < 0.01);
    expect(frames).toHaveLength(250);
    expectIntactInOrder(sent, frames);
  });

  it("handles sequence numbers and frame numbers wrapping past 2^32", () => {
    const sent = send(12, { firstSequence: 0xffff_ffff - 40, firstFrame: 0xffff_fffe });
    const boundary = sent.datagrams.findIndex((d) => d.frame === 2);
    const { frames } = receive(sent, (i) => i >= boundary - 2 && i < boundary + 3);
    expect(frames).toHaveLength(12);
    expectIntactInOrder(sent, frames, 0xffff_fffe);
  });

  it("takes reordering and duplicates: each frame once, intact, in order", () => {
    const sent = send(40, { seed: 5 });
    const random = prng(17);
    const order = (items: Sent["datagrams"]): Sent["datagrams"] => {
      const out: Sent["datagrams"] = [];
      for (let i = 0; i < items.length; i += 6) out.push(...shuffle(random, items.slice(i, i + 6)));
      return out.flatMap((d) => (random() < 0.05 ? [d, d] : [d]));
    };
    const { frames, reassembler } = receive(sent, (i) => i % 50 >= 20 && i % 50 < 24, {}, order);
    expect(frames).toHaveLength(40);
    expectIntactInOrder(sent, frames);
    expect(reassembler.counters.datagramsDuplicate).toBeGreaterThan(0);
  });

  it("through an outage: frames lost are dropped and counted, the next whole frame is emitted within the budget", () => {
    const sent = send(30);
    // 300 ms of nothing from 200 ms on.
    const lost = (i: number): boolean => sent.datagrams[i]!.atMs >= 200 && sent.datagrams[i]!.atMs < 500;
    const { frames, reassembler, emittedAt } = receive(sent, lost);
    expectIntactInOrder(sent, frames);
    const after = frames.filter((f) => f.frameNumber >= 13);
    expect(after.map((f) => f.frameNumber)).toEqual([
      13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
    ]);
    // Never held more than the budget past its own last datagram.
    frames.forEach((f, i) => {
      const last = Math.max(...sent.datagrams.filter((d) => d.frame === f.frameNumber).map((d) => d.atMs));
      expect(emittedAt[i]! - last).toBeLessThanOrEqual(100 + 10);
    });
    expect(reassembler.counters.framesDropped).toBeGreaterThan(0);
  });

  it("with a key: repairs are tagged, a forged or altered repair is refused, rebuilt datagrams verify", () => {
    const key = toyAuthenticator(42);
    const sent = send(10, { authenticator: key });
    const boundary = sent.datagrams.findIndex((d) => d.frame === 4);
    const repair = sent.datagrams.find((d) => looksLikeRepair(d.bytes))!;
    const altered = repair.bytes.slice();
    altered[REPAIR_HEADER_BYTES + 5]! ^= 1;
    const withForgery = {
      frames: sent.frames,
      datagrams: [{ bytes: altered, atMs: 0, frame: 0 }, ...sent.datagrams],
    };
    // withForgery's index i is sent's i - 1: sent's datagrams boundary - 2 to boundary + 1 are lost.
    const { frames, reassembler } = receive(withForgery, (i) => i > boundary - 2 && i <= boundary + 2, {
      authenticator: key,
    });
    expect(frames).toHaveLength(10);
    expectIntactInOrder(sent, frames);
    expect(reassembler.counters.datagramsUnauthenticated).toBe(1);
    expect(reassembler.counters.sourcesRecovered).toBe(lostSources(sent, boundary - 2, boundary + 2));
  });
});

describe("window FEC: hostile repairs", () => {
  it("random and mutated repairs decode or are counted, never throw, and memory stays bounded", () => {
    const random = prng(7);
    const sent = send(20);
    const reassembler = createReassembler({ latencyMs: 100 });
    let maxBuffered = 0;
    for (const [i, d] of sent.datagrams.entries()) {
      for (let k = 0; k < 3; k++) {
        const r = sent.datagrams.find((x, j) => j >= i && looksLikeRepair(x.bytes))?.bytes ?? d.bytes;
        const evil = r.slice();
        const flips = 1 + Math.floor(random() * 4);
        for (let f = 0; f < flips; f++) evil[Math.floor(random() * evil.length)]! ^= 1 + Math.floor(random() * 255);
        if (random() < 0.3) evil.set(randomBytes(random, 12), 8);
        expect(() => reassembler.push(evil, d.atMs)).not.toThrow();
        const forged = randomBytes(random, 20 + Math.floor(random() * 1500));
        forged.set([0x55, 0x43, 1, 0x04]);
        forged[18] = 0;
        forged[19] = 0;
        expect(() => reassembler.push(forged, d.atMs)).not.toThrow();
      }
      expect(() => reassembler.push(d.bytes, d.atMs)).not.toThrow();
      expect(() => reassembler.expire(d.atMs)).not.toThrow();
      maxBuffered = Math.max(maxBuffered, reassembler.counters.bufferedBytes);
    }
    const c = reassembler.counters;
    expect(c.datagramsMalformed + c.repairsInconsistent + c.repairsReceived).toBeGreaterThan(0);
    expect(maxBuffered).toBeLessThan(16 * 1024 * 1024);
  });

  it("a repair for a stream no verified source started keeps no state: no stream, no window, counted unmatched", () => {
    const sent = send(3);
    const repairs = sent.datagrams.filter((d) => looksLikeRepair(d.bytes));
    const reassembler = createReassembler({ latencyMs: 100 });
    for (const r of repairs) expect(reassembler.push(r.bytes, r.atMs)).toEqual([]);
    expect(reassembler.counters).toMatchObject({
      datagramsRepair: repairs.length,
      repairsUnmatched: repairs.length,
      streams: 0,
      windowBytes: 0,
    });
  });

  it("window state is within its share of maxBufferedBytes, and frames and windows together within maxBufferedBytes", () => {
    // 4 streams of 1% loss in bursts, interleaved, into a budget that holds about 60 sources of window state each.
    const maxBufferedBytes = 2_000_000;
    const maxStreams = 4;
    const share = Math.floor(maxBufferedBytes / WINDOW_BUDGET_SHARE / maxStreams);
    const streams = [0, 1, 2, 3].map((k) => send(30, { seed: 20 + k }));
    const reassembler = createReassembler({ latencyMs: 100, maxBufferedBytes, maxStreams });
    const random = prng(5);
    let burst = 0;
    const emitted: FrameEvent[][] = [[], [], [], []];
    let maxWindow = 0;
    for (let i = 0; i < streams[0]!.datagrams.length; i++) {
      for (const [k, sent] of streams.entries()) {
        const d = sent.datagrams[i];
        if (d === undefined) continue;
        if (burst > 0 || random() < 0.0025) {
          burst = burst > 0 ? burst - 1 : 3;
          continue;
        }
        // Each stream its own id: the same frames under another stream id are another stream.
        const bytes = d.bytes.slice();
        new DataView(bytes.buffer).setUint32(Offset.streamId, 0x1000 + k);
        for (const e of [...reassembler.expire(d.atMs), ...reassembler.push(bytes, d.atMs)])
          if (e.type === "frame") emitted[e.streamId - 0x1000]!.push(e);
        const c = reassembler.counters;
        expect(c.bufferedBytes + c.windowBytes).toBeLessThanOrEqual(maxBufferedBytes);
        maxWindow = Math.max(maxWindow, c.windowBytes);
      }
    }
    expect(maxWindow).toBeLessThanOrEqual(maxStreams * share);
    expect(maxWindow).toBeGreaterThan(maxStreams * share * 0.8);
    expect(reassembler.counters.windowShed).toBeGreaterThan(0);
    // What is emitted is still intact.
    for (const [k, sent] of streams.entries()) {
      expect(emitted[k]!.length).toBeGreaterThan(20);
      expectIntactInOrder(sent, emitted[k]!);
    }
  });

  it("frames are shed for window state that grows into a full budget, never the bound broken", () => {
    // One stream, frames parked behind a frame that never completes: the budget fills with frames, and the
    // window's sources keep coming.
    const maxBufferedBytes = 300_000;
    const sent = send(30, { seed: 31 });
    const reassembler = createReassembler({ latencyMs: 1000, frameTimeoutMs: 1000, maxBufferedBytes, maxStreams: 1 });
    const lastOfFirst = sent.datagrams.findLastIndex((d) => d.frame === 0 && !looksLikeRepair(d.bytes));
    let dropped = 0;
    for (const [i, d] of sent.datagrams.entries()) {
      // Frame 0 loses its last datagram and every repair: frames 1.. complete and are parked behind it.
      if (looksLikeRepair(d.bytes) || i === lastOfFirst) continue;
      for (const e of reassembler.push(d.bytes, d.atMs)) if (e.type === "dropped" && e.reason === "overflow") dropped++;
      const c = reassembler.counters;
      expect(c.bufferedBytes + c.windowBytes).toBeLessThanOrEqual(maxBufferedBytes);
    }
    expect(dropped).toBeGreaterThan(0);
    expect(reassembler.counters.windowBytes).toBeGreaterThan(0);
  });

  it("at the default budget a stream's window keeps every source and equation (nothing shed)", () => {
    const sent = send(60, { seed: 9 });
    const random = prng(3);
    const { reassembler } = receive(sent, () => random() < 0.01);
    expect(reassembler.counters.windowShed).toBe(0);
    expect(reassembler.counters.windowBytes).toBeGreaterThan(256 * 1000);
  });
});
