import { describe, expect, it } from "vitest";
import { createNackTracker, type NackRequest } from "./nack-tracker.js";
import { encodeNack, isNackFailure, tryDecodeNack } from "./nack.js";
import { packetizeFrame } from "./packetize.js";
import { createReassembler, type ReassemblerOptions } from "./reassembler.js";
import type { FrameEvent } from "./reassembly-events.js";
import { createRetransmitStore } from "./retransmit-store.js";
import { toyAuthenticator } from "./testing/fuzz.js";
import { prng, randomBytes } from "./testing/random.js";
import { createWindowFecEncoder } from "./window-fec.js";

const STREAM = 0x0bad_cafe;
const FRAME_MS = 40;

function frame(n: number, payload: Uint8Array, fecOverhead = 0, windowSequence?: number): Uint8Array[] {
  return packetizeFrame(
    {
      streamId: STREAM,
      frameNumber: n,
      codec: "jpeg",
      width: 640,
      height: 480,
      fps: 25,
      timestampMs: 1_700_000_000_000 + n * FRAME_MS,
      payload,
    },
    { fecOverhead, ...(windowSequence === undefined ? {} : { windowSequence }) },
  );
}

/** A receiver: reassembler (ordered) + tracker, as the ingest thread wires them. */
function receiver(latencyMs = 100, options: Partial<ReassemblerOptions> = {}) {
  const nack = createNackTracker({ latencyMs });
  const reassembler = createReassembler({ latencyMs, ordered: true, nack, ...options });
  const frames: FrameEvent[] = [];
  const take = (events: ReturnType<typeof reassembler.push>) => {
    for (const e of events) if (e.type === "frame") frames.push(e);
  };
  return {
    nack,
    reassembler,
    frames,
    push: (d: Uint8Array, now: number) => take(reassembler.push(d, now, "127.0.0.1", "127.0.0.1:5000")),
    expire: (now: number) => take(reassembler.expire(now)),
  };
}

function asked(requests: NackRequest[]): string[] {
  return requests.flatMap((r) => r.entries.map((e) => `${e.frameNumber}:${e.firstChunk}+${e.chunkCount}`));
}

describe("the NACK tracker", () => {
  const random = prng(3);
  const payloads = Array.from({ length: 4 }, () => randomBytes(random, 20_000));

  it("asks for the chunks missing once the reorder window has passed, as ranges, to where the stream came from", () => {
    const r = receiver();
    const d = frame(0, payloads[0]!);
    expect(d.length).toBe(15);
    let t = 0;
    for (const [i, bytes] of d.entries()) if (i !== 3 && i !== 6 && i !== 7) r.push(bytes, (t += 2));
    expect(asked(r.nack.due(t))).toEqual(["0:3+1", "0:6+2"]);
    const again = r.nack.due(t + 1);
    expect(again).toEqual([]);
    const retry = r.nack.due(t + 11);
    expect(asked(retry)).toEqual(["0:3+1", "0:6+2"]);
    expect(retry[0]!.replyTo).toBe("127.0.0.1:5000");
    expect(retry[0]!.streamId).toBe(STREAM);
    for (const i of [3, 6, 7]) r.push(d[i]!, t + 12);
    expect(r.frames.map((f) => f.frameNumber)).toEqual([0]);
    expect(r.frames[0]!.payload).toEqual(payloads[0]);
    expect(r.nack.due(t + 40)).toEqual([]);
    expect(r.nack.counters).toMatchObject({ nacksSent: 2, datagramsRequested: 6, datagramsRecoveredByNack: 3 });
  });

  it("pending while a frame is unfinished or a gap is open, and not once every frame is through", () => {
    const r = receiver();
    expect(r.nack.pending).toBe(false);
    const a = frame(0, payloads[0]!);
    a.slice(0, 10).forEach((bytes, k) => r.push(bytes, k));
    expect(r.nack.pending).toBe(true);
    a.slice(10).forEach((bytes) => r.push(bytes, 10));
    expect(r.frames).toHaveLength(1);
    expect(r.nack.pending).toBe(false);
    // A frame with a lost tail stays pending until the reassembler gives up on it at the latency budget.
    frame(1, payloads[1]!)
      .slice(0, 12)
      .forEach((bytes, k) => r.push(bytes, 50 + k));
    expect(r.nack.pending).toBe(true);
    expect(asked(r.nack.due(75))).toEqual(["1:12+3"]);
    r.expire(200);
    expect(r.frames).toHaveLength(1);
    expect(r.nack.due(200)).toEqual([]);
    expect(r.nack.pending).toBe(false);
  });

  it("nextDueMs: nothing while frames complete, the reorder window after the last arrival while one is unfinished", () => {
    const r = receiver();
    expect(r.nack.nextDueMs).toBe(Number.POSITIVE_INFINITY);
    const a = frame(0, payloads[0]!);
    a.slice(0, 10).forEach((bytes, k) => r.push(bytes, k));
    expect(r.nack.nextDueMs).toBe(9 + 10);
    a.slice(10).forEach((bytes) => r.push(bytes, 10));
    expect(r.nack.nextDueMs).toBe(Number.POSITIVE_INFINITY);
    // A lost tail: once due has looked for it, the gaps say when.
    frame(1, payloads[1]!)
      .slice(0, 12)
      .forEach((bytes, k) => r.push(bytes, 50 + k));
    expect(r.nack.nextDueMs).toBe(61 + 10);
    expect(r.nack.due(70)).toEqual([]);
    expect(asked(r.nack.due(71))).toEqual(["1:12+3"]);
    expect(r.nack.nextDueMs).toBe(71 + 10);
  });

  // The ingest sleeps until nextDueMs instead of polling: it must ask for the same chunks, no later than a poll.
  it.each([
    ["no FEC, 5% loss", 0, 0.05, 11],
    ["per-frame FEC, 10% loss", 0.2, 0.1, 12],
    ["per-frame FEC, 30% loss", 0.2, 0.3, 13],
  ])(
    "nextDueMs: a caller that calls due only then asks for what a 1 ms poll asks for, when it does (%s)",
    (_name, fec, loss, seed) => {
      const polled = receiver();
      const sleeping = receiver();
      const lose = prng(seed);
      const askedAt = (requests: NackRequest[], now: number): string[] => asked(requests).map((e) => `${now}:${e}`);
      const fromPoll: string[] = [];
      const fromSleep: string[] = [];
      let t = 0;
      const tick = (): void => {
        fromPoll.push(...askedAt(polled.nack.due(t), t));
        if (t >= sleeping.nack.nextDueMs) fromSleep.push(...askedAt(sleeping.nack.due(t), t));
        polled.expire(t);
        sleeping.expire(t);
        t++;
      };
      for (let n = 0; n < 40; n++) {
        for (const bytes of frame(n, randomBytes(lose, 8_000 + n * 500), fec)) {
          if (lose() >= loss) {
            polled.push(bytes, t);
            sleeping.push(bytes, t);
          }
          tick();
        }
        while (t % FRAME_MS !== 0) tick();
      }
      for (let end = t + 200; t < end;) tick();
      expect(fromPoll.length).toBeGreaterThan(5);
      expect(fromSleep).toEqual(fromPoll);
      expect(sleeping.nack.nextDueMs).toBe(Number.POSITIVE_INFINITY);
    },
  );

  it("reordering within the window is not asked for", () => {
    const r = receiver();
    const d = frame(0, payloads[0]!);
    const order = [0, 1, 3, 4, 5, 2, 6, 7, 8, 9, 10, 11, 12, 13, 14];
    order.forEach((i, k) => r.push(d[i]!, k));
    expect(r.nack.due(14)).toEqual([]);
    expect(r.frames).toHaveLength(1);
  });

  it("a frame's lost tail is seen from the next frame; the newer frame waits in order and both come out whole", () => {
    const r = receiver();
    const a = frame(0, payloads[0]!);
    const b = frame(1, payloads[1]!);
    a.slice(0, 12).forEach((bytes, k) => r.push(bytes, k));
    b.forEach((bytes, k) => r.push(bytes, 40 + k));
    expect(r.frames).toEqual([]);
    expect(asked(r.nack.due(55))).toEqual(["0:12+3"]);
    a.slice(12).forEach((bytes) => r.push(bytes, 56));
    expect(r.frames.map((f) => [f.frameNumber, f.payload.length])).toEqual([
      [0, payloads[0]!.length],
      [1, payloads[1]!.length],
    ]);
  });

  it("per-frame FEC: asks only for what the group lacks beyond its parity, never for parity", () => {
    const r = receiver();
    const d = frame(0, payloads[0]!, 0.2);
    // 15 data + 3 parity in one group: lose 5 data chunks and 1 parity: 3 data chunks are still needed.
    const lost = new Set([2, 3, 4, 5, 6, 16]);
    d.forEach((bytes, i) => lost.has(i) || r.push(bytes, i));
    // The last arrival is parity 17: parity 16 is missing too, and no more parity can come.
    expect(asked(r.nack.due(40))).toEqual(["0:2+3"]);
    r.push(d[2]!, 41);
    r.push(d[3]!, 41);
    expect(r.frames).toHaveLength(0);
    r.push(d[4]!, 42);
    expect(r.frames).toHaveLength(1);
    expect(r.frames[0]!.payload).toEqual(payloads[0]);
  });

  it("asks for nothing that parity still on its way can repair", () => {
    const r = receiver();
    const d = frame(0, payloads[0]!, 0.2);
    // Data 2 lost; the data after it arrived, the parity not yet: parity may come, so nothing is asked.
    d.slice(0, 15).forEach((bytes, i) => i === 2 || r.push(bytes, i));
    expect(r.nack.due(20)).toEqual([]);
    r.push(d[15]!, 31);
    expect(r.frames).toHaveLength(1);
  });

  it("stops asking once the frame is past the latency budget; the reassembler drops it, later frames flow", () => {
    const r = receiver(100);
    const a = frame(0, payloads[0]!);
    const b = frame(1, payloads[1]!);
    a.forEach((bytes, i) => i === 5 || r.push(bytes, i));
    let requests = 0;
    for (let t = 14; t < 100; t += 5) requests += r.nack.due(t).length;
    expect(requests).toBeGreaterThan(3);
    b.forEach((bytes, k) => r.push(bytes, 40 + k));
    r.expire(101);
    expect(r.nack.due(101)).toEqual([]);
    expect(r.frames.map((f) => f.frameNumber)).toEqual([1]);
    expect(r.reassembler.counters.framesDropped).toBe(1);
    expect(r.nack.counters.gapsExpired).toBe(1);
  });

  it("a window FEC rebuild takes the chunk off the list", () => {
    const encoder = createWindowFecEncoder({ streamId: STREAM, overhead: 0.2, windowMs: 100 });
    const r = receiver();
    const sources = frame(0, payloads[0]!, 0, encoder.nextSequence);
    const out = encoder.protect(sources, 0);
    const lostSource = out.indexOf(sources[4]!);
    out.forEach((bytes, i) => i === lostSource || r.push(bytes, i));
    expect(r.frames).toHaveLength(1);
    expect(r.nack.due(50)).toEqual([]);
  });

  it("frames lost whole are asked for whole when the frames around them are still incomplete", () => {
    const r = receiver();
    const a = frame(0, payloads[0]!);
    const c = frame(2, payloads[2]!);
    a.slice(0, 10).forEach((bytes, k) => r.push(bytes, k));
    c.slice(0, 14).forEach((bytes, k) => r.push(bytes, 80 + k));
    expect(asked(r.nack.due(95))).toEqual(["0:10+5", "1:0+65535"]);
    // The stream went quiet (the reorder time passed): the newest frame's tail is asked for too.
    expect(asked(r.nack.due(104))).toEqual(["2:14+1"]);
  });

  it("bounded: a stranger's frame numbers far ahead reveal no flood of lost frames", () => {
    const r = receiver();
    frame(0, payloads[0]!)
      .slice(0, 3)
      .forEach((bytes, k) => r.push(bytes, k));
    frame(1_000_000, payloads[1]!)
      .slice(0, 3)
      .forEach((bytes, k) => r.push(bytes, 10 + k));
    const requests = r.nack.due(30);
    expect(asked(requests).length).toBeLessThanOrEqual(3);
  });
});

describe("the retransmit store", () => {
  const random = prng(5);
  const payload = randomBytes(random, 20_000);

  it("sends back exactly the bytes it sent, for the chunks asked, clamped to the frame", () => {
    const store = createRetransmitStore({ latencyMs: 100, maxShare: 1 });
    const d = frame(9, payload);
    d.forEach((bytes) => store.sent(bytes, 0));
    const out = store.request(
      { streamId: STREAM, entries: [{ frameNumber: 9, firstChunk: 13, chunkCount: 0xffff }] },
      5,
    );
    expect(out).toEqual([d[13], d[14]]);
    expect(store.counters).toMatchObject({ datagramsRequested: 2, datagramsRetransmitted: 2 });
  });

  it("forgets frames past the latency budget and past its byte bound", () => {
    const store = createRetransmitStore({ latencyMs: 100, maxBytes: 40_000, maxShare: 1 });
    const a = frame(1, payload);
    const b = frame(2, payload);
    a.forEach((bytes) => store.sent(bytes, 0));
    b.forEach((bytes) => store.sent(bytes, 10));
    expect(store.heldBytes).toBeLessThanOrEqual(40_000);
    expect(
      store.request({ streamId: STREAM, entries: [{ frameNumber: 1, firstChunk: 0, chunkCount: 1 }] }, 20),
    ).toEqual([]);
    expect(
      store.request({ streamId: STREAM, entries: [{ frameNumber: 2, firstChunk: 0, chunkCount: 1 }] }, 20),
    ).toEqual([b[0]]);
    expect(
      store.request({ streamId: STREAM, entries: [{ frameNumber: 2, firstChunk: 0, chunkCount: 1 }] }, 111),
    ).toEqual([]);
    expect(store.counters.datagramsUnavailable).toBe(2);
  });

  it("a flood of NACKs for everything gets at most maxShare of the bytes sent, plus one window's credit", () => {
    const store = createRetransmitStore({ latencyMs: 100, maxShare: 0.25 });
    let sentBytes = 0;
    let resent = 0;
    for (let n = 0; n < 100; n++) {
      for (const bytes of frame(n, payload)) {
        store.sent(bytes, n * FRAME_MS);
        sentBytes += bytes.length;
      }
      for (let k = 0; k < 10; k++) {
        const entries = [0, 1, 2].map((back) => ({
          frameNumber: Math.max(0, n - back),
          firstChunk: 0,
          chunkCount: 0xffff,
        }));
        for (const bytes of store.request({ streamId: STREAM, entries }, n * FRAME_MS + k)) resent += bytes.length;
      }
    }
    expect(resent).toBeGreaterThan(0);
    expect(resent).toBeLessThanOrEqual(0.25 * sentBytes + 0.25 * 256 * 1024);
    expect(store.counters.bytesRetransmitted).toBe(resent);
    expect(store.counters.datagramsRateLimited).toBeGreaterThan(0);
  });

  it("ignores window FEC repairs (never asked for) and other streams", () => {
    const encoder = createWindowFecEncoder({ streamId: STREAM, overhead: 0.5, windowMs: 100 });
    const store = createRetransmitStore({ latencyMs: 100, maxShare: 1 });
    const out = encoder.protect(frame(0, payload, 0, encoder.nextSequence), 0);
    out.forEach((bytes) => store.sent(bytes, 0));
    const back = store.request(
      { streamId: STREAM, entries: [{ frameNumber: 0, firstChunk: 0, chunkCount: 0xffff }] },
      1,
    );
    expect(back.length).toBe(out.length - encoder.repairs);
    expect(
      store.request({ streamId: STREAM + 1, entries: [{ frameNumber: 0, firstChunk: 0, chunkCount: 1 }] }, 1),
    ).toEqual([]);
  });
});

/** Gilbert two-state loss: mean loss `loss`, mean burst `burst`. */
function gilbert(seed: number, loss: number, burst: number): () => boolean {
  const random = prng(seed);
  const leave = 1 / burst;
  const enter = (loss * leave) / (1 - loss);
  let bad = false;
  return () => {
    bad = bad ? random() >= leave : random() < enter;
    return bad;
  };
}

describe("NACK end to end in one process: 1% loss in bursts of 4, 1 ms round trip", () => {
  it.each([1, 2, 3])("seed %i: 250 frames of ~20 KB, at least 249 complete and byte for byte what was sent", (seed) => {
    const random = prng(100 + seed);
    const auth = toyAuthenticator(seed);
    const store = createRetransmitStore({ latencyMs: 100 });
    const r = receiver(100);
    const lose = gilbert(seed, 0.01, 4);
    const loseNack = gilbert(seed + 50, 0.01, 4);
    const heap = new EventHeap();
    const at = (time: number, run: () => void) => heap.push({ at: time, run });
    const sent: Uint8Array[] = [];
    let forward = 0;
    let lost = 0;
    const toReceiver = (bytes: Uint8Array, time: number) => {
      forward += bytes.length;
      if (lose()) lost++;
      else at(time + 0.5, () => r.push(bytes, time + 0.5));
    };
    for (let n = 0; n < 250; n++) {
      const payload = randomBytes(random, 18_000 + Math.floor(random() * 6000));
      sent.push(payload);
      frame(n, payload).forEach((bytes, i) =>
        at(n * FRAME_MS + i * 1.6, () => {
          store.sent(bytes, n * FRAME_MS + i * 1.6);
          toReceiver(bytes, n * FRAME_MS + i * 1.6);
        }),
      );
    }
    for (let t = 0; t < 250 * FRAME_MS + 200; t += 2) {
      at(t + 0.1, () => {
        r.expire(t);
        for (const request of r.nack.due(t)) {
          const bytes = encodeNack(request.streamId, request.entries, auth);
          if (loseNack()) continue;
          at(t + 0.5, () => {
            const nack = tryDecodeNack(bytes);
            if (isNackFailure(nack) || !auth.verify(nack.signed, nack.tag!)) throw new Error("bad NACK");
            for (const again of store.request(nack, t + 0.5)) toReceiver(again, t + 0.5);
          });
        }
      });
    }
    let now = -1;
    for (let next = heap.pop(); next !== undefined; next = heap.pop()) {
      if (next.at < now) throw new Error(`event at ${next.at} after ${now}`);
      now = next.at;
      next.run();
    }
    expect(lost).toBeGreaterThan(10);
    expect(r.frames.length).toBeGreaterThanOrEqual(249);
    const differing = r.frames.filter((f) => Buffer.compare(f.payload, sent[f.frameNumber]!) !== 0);
    expect(differing.map((f) => f.frameNumber)).toEqual([]);
    expect(r.frames.map((f) => f.frameNumber)).toEqual([...r.frames.map((f) => f.frameNumber)].sort((a, b) => a - b));
    // Overhead: retransmissions are about the loss rate, far under the 15% budget.
    expect(store.counters.bytesRetransmitted / forward).toBeLessThan(0.05);
  });
});

interface Scheduled {
  readonly at: number;
  readonly run: () => void;
}

/** A binary min-heap of events by time (ties in the order pushed). */
class EventHeap {
  private readonly items: { event: Scheduled; order: number }[] = [];
  private pushed = 0;

  push(event: Scheduled): void {
    const items = this.items;
    items.push({ event, order: this.pushed++ });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): Scheduled | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0]!.event;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && this.less(l, m)) m = l;
        if (r < items.length && this.less(r, m)) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m]!, items[i]!];
        i = m;
      }
    }
    return top;
  }

  private less(a: number, b: number): boolean {
    const x = this.items[a]!;
    const y = this.items[b]!;
    return x.event.at < y.event.at || (x.event.at === y.event.at && x.order < y.order);
  }
}
