import { describe, expect, it } from "vitest";
import { createKeyring, keyFromSecret } from "./node/keyring.js";
import { packetizeFrame, type FrameToSend, type PacketizeOptions } from "./packetize.js";
import { createReassembler, RETAIN_MIN_CHUNK_BYTES, type Reassembler, type ReassemblerOptions } from "./reassembler.js";
import type { FrameEvent, ReassemblyEvent } from "./reassembly-events.js";
import { HEADER_BYTES } from "./header.js";
import { firstDifference, prng, randomBytes, shuffle } from "./testing/random.js";

/**
 * Large chunks (at least `RETAIN_MIN_CHUNK_BYTES`): the frame's payload is taken at its first datagram and each
 * data chunk is copied straight into it as it arrives, once, in both modes; `retainDatagrams` keeps only their
 * parity chunks as views of the datagram. Small chunks are copied into blocks first. Either way the frames out
 * are the frames in, byte for byte.
 */

const random = prng(16);
const keyring = createKeyring([keyFromSecret("retained datagrams, test only")]);

/** A raw 640x480 frame, or (given another size) a frame of that many bytes, said to be JPEG. */
function rawFrame(frameNumber: number, bytes = 640 * 480 * 3): FrameToSend {
  return {
    streamId: 7,
    frameNumber,
    codec: bytes === 640 * 480 * 3 ? "raw-bgr24" : "jpeg",
    width: 640,
    height: 480,
    fps: 25,
    timestampMs: 1_700_000_000_000 + frameNumber * 40,
    payload: randomBytes(random, bytes),
  };
}

/** Each datagram in a fresh buffer of exactly its size, as Node's `dgram` hands them out. */
const fresh = (datagrams: readonly Uint8Array[]): Uint8Array[] => datagrams.map((d) => new Uint8Array(d));

/** The positions (= chunk indices, data then parity, as packetizeFrame cuts them) pushed, in which order. */
type Order = (positions: number[]) => number[];
const ORDERS: Record<string, Order> = {
  "in order": (ps) => ps,
  reversed: (ps) => [...ps].reverse(),
  "every chunk twice, shuffled": (ps) => shuffle(random, [...ps, ...ps]),
  // Chunks 0-3 lost (in groups 0-3 of 6 at 1,472 B; two in each of groups 0 and 1 otherwise), the rest shuffled.
  "lost, rebuilt by FEC": (ps) => shuffle(random, ps.slice(4)),
};

interface Case {
  readonly datagramBytes: number;
  readonly protection: "none" | "authenticated" | "encrypted";
}
const CASES: Case[] = [
  { datagramBytes: 1472, protection: "none" },
  { datagramBytes: 1472, protection: "encrypted" },
  { datagramBytes: 8192, protection: "none" },
  { datagramBytes: 46_080, protection: "none" },
  { datagramBytes: 65_507, protection: "none" },
  { datagramBytes: 65_507, protection: "authenticated" },
  { datagramBytes: 46_080, protection: "encrypted" },
  { datagramBytes: 65_507, protection: "encrypted" },
];

const sending = (c: Case): PacketizeOptions => ({
  maxDatagramBytes: c.datagramBytes,
  // 1,472 B: 6 groups of up to 128 data chunks; large: groups of up to 8 data chunks, 2 parity each.
  fecOverhead: 0.25,
  fecGroupSize: c.datagramBytes < RETAIN_MIN_CHUNK_BYTES ? 128 : 8,
  ...(c.protection === "authenticated" ? { authenticator: keyring.authenticator } : {}),
  ...(c.protection === "encrypted" ? { cipher: keyring.cipher } : {}),
});

const receiving = (c: Case, retainDatagrams: boolean): ReassemblerOptions => ({
  retainDatagrams,
  ...(c.protection === "authenticated" ? { authenticator: keyring.authenticator } : {}),
  ...(c.protection === "encrypted" ? { cipher: keyring.cipher } : {}),
});

const framesOf = (events: readonly ReassemblyEvent[]): FrameEvent[] =>
  events.filter((e): e is FrameEvent => e.type === "frame");

describe.each([false, true])("a reassembler with retainDatagrams: %s", (retainDatagrams) => {
  describe.each(CASES)("$datagramBytes B datagrams, protection $protection", (c) => {
    it.each(Object.entries(ORDERS))("gives back each frame byte for byte, chunks %s", (name, reorder) => {
      const r = createReassembler(receiving(c, retainDatagrams));
      // Two frames in flight at once, their datagrams alternating, both in the same order of chunks (so the
      // first completes first: a newer frame completing first would supersede it).
      const sent = [rawFrame(1), rawFrame(2)];
      const [a, b] = sent.map((f) => packetizeFrame(f, sending(c)));
      const order = reorder(a!.map((_, i) => i));
      const events = order.flatMap((i) => fresh([a![i]!, b![i]!]).flatMap((d) => r.push(d, 0)));
      const out = framesOf(events);
      expect(out.map((f) => f.frameNumber)).toEqual([1, 2]);
      for (const f of out) expect(firstDifference(f.payload, sent[f.frameNumber - 1]!.payload)).toBe(-1);
      const c2 = r.counters;
      expect(c2.datagramsAccepted + c2.datagramsDuplicate + c2.datagramsSurplus).toBe(2 * order.length);
      expect(c2.datagramsDuplicate > 0).toBe(name.startsWith("every chunk twice"));
      if (name.startsWith("lost")) expect(c2.chunksRecovered).toBeGreaterThanOrEqual(8);
      expect({ dropped: c2.framesDropped, held: c2.bufferedBytes, inFlight: c2.framesInFlight }).toEqual({
        dropped: 0,
        held: 0,
        inFlight: 0,
      });
    });
  });
});

/**
 * An allocator handing out dirty buffers (0xee: a reused frame's bytes), remembering each, and the payloads given back.
 */
function recordingAllocator(): Pick<ReassemblerOptions, "allocatePayload" | "releasePayload"> & {
  readonly given: Uint8Array[];
  readonly released: Uint8Array[];
} {
  const given: Uint8Array[] = [];
  const released: Uint8Array[] = [];
  return {
    given,
    released,
    allocatePayload: (n) => {
      const payload = new Uint8Array(n).fill(0xee);
      given.push(payload);
      return payload;
    },
    releasePayload: (payload) => released.push(payload),
  };
}

it("without retainDatagrams, a caller may overwrite its buffer after each push", () => {
  for (const datagramBytes of [1472, 65_507]) {
    const frame = rawFrame(3);
    const r = createReassembler();
    const scratch = new Uint8Array(65_536);
    const events: ReassemblyEvent[] = [];
    for (const d of shuffle(random, packetizeFrame(frame, { maxDatagramBytes: datagramBytes }))) {
      scratch.set(d);
      events.push(...r.push(scratch.subarray(0, d.length), 0));
      scratch.fill(0xee);
    }
    const [out] = framesOf(events);
    expect(firstDifference(out!.payload, frame.payload)).toBe(-1);
  }
});

describe("a large data chunk is copied once, into its frame's payload, when it arrives", () => {
  /** 65,463 B of each 65,507 B datagram are frame bytes (the header before them). */
  const CHUNK = 65_507 - HEADER_BYTES;

  it.each([
    { datagramBytes: 65_507, retainDatagrams: true, payloadTaken: "at the first datagram" },
    { datagramBytes: 65_507, retainDatagrams: false, payloadTaken: "at the first datagram" },
    { datagramBytes: 8192, retainDatagrams: true, payloadTaken: "at the first datagram" },
    { datagramBytes: 1472, retainDatagrams: true, payloadTaken: "when the frame completes" },
    // 4,096 B chunks, but 269 of them (more than DIRECT_MAX_CHUNKS): blocks, never views of data chunks.
    {
      datagramBytes: HEADER_BYTES + 4096,
      frameBytes: 1_100_000,
      retainDatagrams: true,
      payloadTaken: "when the frame completes",
    },
    { datagramBytes: 1472, retainDatagrams: false, payloadTaken: "when the frame completes" },
  ])(
    "$datagramBytes B, retainDatagrams $retainDatagrams: the payload is taken $payloadTaken",
    ({ datagramBytes, retainDatagrams, payloadTaken, ...rest }) => {
      const frame = rawFrame(4, "frameBytes" in rest ? rest.frameBytes : undefined);
      const alloc = recordingAllocator();
      const r = createReassembler({ retainDatagrams, ...alloc });
      const datagrams = fresh(packetizeFrame(frame, { maxDatagramBytes: datagramBytes, fecOverhead: 0 }));
      const chunk = datagrams[0]!.length - HEADER_BYTES;
      const last = datagrams.pop()!;
      const early = payloadTaken === "at the first datagram";
      for (const [i, d] of datagrams.entries()) {
        expect(framesOf(r.push(d, 0))).toEqual([]);
        // Overwriting the datagram after push changes nothing of the frame: it was copied, not kept.
        d.fill(0x55, HEADER_BYTES);
        expect(alloc.given).toHaveLength(early ? 1 : 0);
        if (!early) continue;
        // The chunk is in its place already; marking it shows whether anything copies it there again.
        const place = alloc.given[0]!.subarray(i * chunk, (i + 1) * chunk);
        expect(firstDifference(place, frame.payload.subarray(i * chunk, (i + 1) * chunk))).toBe(-1);
        place.fill(0x11);
      }
      // A duplicate is counted, not copied again.
      const duplicate = new Uint8Array(packetizeFrame(frame, { maxDatagramBytes: datagramBytes, fecOverhead: 0 })[0]!);
      expect(r.push(duplicate, 0)).toEqual([]);
      expect(r.counters.datagramsDuplicate).toBe(1);
      const [out] = framesOf(r.push(last, 0));
      expect(alloc.given).toHaveLength(1);
      expect(out!.payload).toBe(alloc.given[0]);
      const body = datagrams.length * chunk;
      const expected = early ? new Uint8Array(body).fill(0x11) : frame.payload.subarray(0, body);
      expect(firstDifference(out!.payload.subarray(0, body), expected)).toBe(-1);
      expect(firstDifference(out!.payload.subarray(body), frame.payload.subarray(body))).toBe(-1);
    },
  );

  it.each([
    { retainDatagrams: true, rebuiltFrom: "the parity datagram as it is after push (a view)" },
    { retainDatagrams: false, rebuiltFrom: "the parity chunk as it arrived (a copy)" },
  ])("retainDatagrams $retainDatagrams: a lost data chunk is rebuilt from $rebuiltFrom", (c) => {
    // 4 data chunks in one group, 1 parity chunk; data chunk 2 is lost.
    const frame = rawFrame(5, 4 * CHUNK);
    const r = createReassembler({ retainDatagrams: c.retainDatagrams });
    const datagrams = fresh(packetizeFrame(frame, { maxDatagramBytes: 65_507, fecOverhead: 0.25, fecGroupSize: 4 }));
    expect(datagrams).toHaveLength(5);
    const parity = datagrams[4]!;
    r.push(parity, 0);
    parity.fill(0, HEADER_BYTES); // the parity of nothing: chunk 2 rebuilt from it is chunks 0 ^ 1 ^ 3
    const [out] = framesOf([0, 1, 3].flatMap((i) => r.push(datagrams[i]!, 0)));
    const sent = (i: number): Uint8Array => frame.payload.subarray(i * CHUNK, (i + 1) * CHUNK);
    const xor = sent(0).map((b, j) => b ^ sent(1)[j]! ^ sent(3)[j]!);
    const rebuilt = out!.payload.subarray(2 * CHUNK, 3 * CHUNK);
    expect(firstDifference(rebuilt, c.retainDatagrams ? xor : sent(2))).toBe(-1);
    for (const i of [0, 1, 3])
      expect(firstDifference(out!.payload.subarray(i * CHUNK, (i + 1) * CHUNK), sent(i))).toBe(-1);
  });

  it.each(["authenticated", "encrypted"] as const)(
    "%s: a forged chunk never writes into a frame, and takes no payload",
    (protection) => {
      const c: Case = { datagramBytes: 65_507, protection };
      const frame = rawFrame(6);
      const alloc = recordingAllocator();
      const r = createReassembler({ ...receiving(c, false), ...alloc });
      const datagrams = fresh(packetizeFrame(frame, { ...sending(c), fecOverhead: 0 }));
      const forge = (d: Uint8Array): Uint8Array => {
        const forged = new Uint8Array(d);
        forged.fill(0x77, HEADER_BYTES + 64, HEADER_BYTES + 4096);
        return forged;
      };
      // A forged first datagram starts no frame: no payload is taken for it.
      r.push(forge(datagrams[0]!), 0);
      expect(alloc.given).toHaveLength(0);
      r.push(datagrams[0]!, 0);
      expect(alloc.given).toHaveLength(1);
      const payload = alloc.given[0]!;
      const before = payload.slice();
      for (const d of datagrams.slice(1, 4)) r.push(forge(d), 0);
      expect(firstDifference(payload, before)).toBe(-1);
      const refused =
        protection === "encrypted" ? r.counters.datagramsUnauthenticated : r.counters.datagramsUnauthenticated;
      expect(refused).toBe(4);
      const [out] = framesOf(datagrams.slice(1).flatMap((d) => r.push(d, 0)));
      expect(out!.payload).toBe(payload);
      expect(firstDifference(out!.payload, frame.payload)).toBe(-1);
    },
  );
});

describe("a payload taken early", () => {
  const datagramsOf = (frame: FrameToSend): Uint8Array[] =>
    fresh(packetizeFrame(frame, { maxDatagramBytes: 65_507, fecOverhead: 0 }));

  it.each([
    {
      name: "a frame that times out",
      drop: (r: Reassembler) => r.expire(1000),
      reason: "timeout",
    },
    {
      name: "a frame superseded by a newer one",
      drop: (r: Reassembler) => datagramsOf(rawFrame(9)).flatMap((d) => r.push(d, 10)),
      reason: "superseded",
    },
    {
      name: "a frame of a stream evicted by a newer stream",
      drop: (r: Reassembler) => r.push(datagramsOf({ ...rawFrame(1), streamId: 8 })[0]!, 10),
      reason: "evicted",
    },
  ])("is given back to the allocator: $name", ({ drop, reason }) => {
    const alloc = recordingAllocator();
    const r = createReassembler({ ...alloc, maxStreams: 1 });
    const frame = rawFrame(8);
    r.push(datagramsOf(frame)[0]!, 0);
    expect(alloc.given).toHaveLength(1);
    // The whole payload counts from the first datagram, not only the chunk that came.
    expect(r.counters.bufferedBytes).toBeGreaterThanOrEqual(frame.payload.length);
    const events = drop(r);
    expect(events.filter((e) => e.type === "dropped").map((e) => [e.frameNumber, e.reason])).toEqual([[8, reason]]);
    expect(alloc.released).toHaveLength(1);
    expect(alloc.released[0]).toBe(alloc.given[0]);
    // What was delivered, if anything, is never the payload given back.
    for (const f of framesOf(events)) expect(f.payload).not.toBe(alloc.released[0]);
    if (reason === "timeout") expect(r.counters).toMatchObject({ framesInFlight: 0, bufferedBytes: 0 });
  });

  it("counts its whole frame against maxBufferedBytes from the first datagram, and is given back on overflow", () => {
    // Room for one frame of 4 chunks in flight, not two: a newer frame's first datagram pushes the older out.
    const frameBytes = 4 * (65_507 - HEADER_BYTES);
    const budget = Math.floor(1.5 * frameBytes);
    const alloc = recordingAllocator();
    const r = createReassembler({ ...alloc, maxBufferedBytes: budget, retainDatagrams: true });
    const sent = [rawFrame(6, frameBytes), rawFrame(7, frameBytes), rawFrame(8, frameBytes)];
    const sets = sent.map((f) => datagramsOf(f));
    const events: ReassemblyEvent[] = [];
    for (let i = 0; i < 4; i++)
      for (const set of sets) {
        events.push(...r.push(set[i]!, 0));
        expect(r.counters.bufferedBytes).toBeLessThanOrEqual(budget);
        if (r.framesInFlight > 0) expect(r.counters.bufferedBytes).toBeGreaterThanOrEqual(frameBytes);
      }
    const dropped = events.filter((e) => e.type === "dropped");
    expect(dropped.map((e) => [e.frameNumber, e.reason])).toEqual([
      [6, "overflow"],
      [7, "overflow"],
    ]);
    expect(alloc.released).toEqual([alloc.given[0], alloc.given[1]]);
    const out = framesOf(events);
    expect(out.map((f) => f.frameNumber)).toEqual([8]);
    expect(out[0]!.payload).toBe(alloc.given[2]);
    expect(firstDifference(out[0]!.payload, sent[2]!.payload)).toBe(-1);
    expect(r.counters).toMatchObject({ framesInFlight: 0, bufferedBytes: 0 });
  });

  it("refuses a frame whose payload would not fit the budget, taking nothing", () => {
    const alloc = recordingAllocator();
    const r = createReassembler({ ...alloc, maxBufferedBytes: 640 * 480 * 3 - 1 });
    const events = r.push(datagramsOf(rawFrame(10))[0]!, 0);
    expect(events.filter((e) => e.type === "dropped").map((e) => e.reason)).toEqual(["overflow"]);
    expect(alloc.given).toHaveLength(0);
    expect(r.counters.bufferedBytes).toBe(0);
  });

  it("holds a parity chunk in a block of its size, not of the frame's", () => {
    const frame = rawFrame(12);
    const datagrams = packetizeFrame(frame, { maxDatagramBytes: 65_507, fecOverhead: 0.1 });
    const r = createReassembler();
    for (const d of datagrams.slice(0, 7)) r.push(d, 0);
    const withData = r.counters.bufferedBytes;
    r.push(datagrams[datagrams.length - 1]!, 0);
    const parity = r.counters.bufferedBytes - withData;
    expect(parity).toBeGreaterThanOrEqual(65_507 - HEADER_BYTES);
    expect(parity).toBeLessThan(66_000);
  });

  it("counts a parity chunk held as a view with the whole buffer it keeps alive", () => {
    const frame = rawFrame(11, 4 * (65_507 - HEADER_BYTES));
    const datagrams = packetizeFrame(frame, { maxDatagramBytes: 65_507, fecOverhead: 0.25, fecGroupSize: 4 });
    const r = createReassembler({ retainDatagrams: true });
    r.push(new Uint8Array(datagrams[0]!), 0);
    const withData = r.counters.bufferedBytes;
    // A parity datagram in a buffer 1.5 times its size is kept as a view, counted whole.
    const roomy = new Uint8Array(new ArrayBuffer(98_000), 0, datagrams[4]!.length);
    roomy.set(datagrams[4]!);
    r.push(roomy, 0);
    expect(r.counters.bufferedBytes - withData).toBeGreaterThanOrEqual(98_000);
  });
});
