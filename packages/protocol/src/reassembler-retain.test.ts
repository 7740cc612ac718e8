import { describe, expect, it } from "vitest";
import { createKeyring, keyFromSecret } from "./node/keyring.js";
import { packetizeFrame, type FrameToSend, type PacketizeOptions } from "./packetize.js";
import { createReassembler, RETAIN_MIN_CHUNK_BYTES, type ReassemblerOptions } from "./reassembler.js";
import type { FrameEvent, ReassemblyEvent } from "./reassembly-events.js";
import { HEADER_BYTES } from "./header.js";
import { firstDifference, prng, randomBytes, shuffle } from "./testing/random.js";

/**
 * `retainDatagrams`: the reassembler keeps large chunks where they arrived (a view of the datagram) and
 * copies them once, into the frame; without it (and for small chunks) it copies them into blocks first.
 * Either way the frames out are the frames in, byte for byte.
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
  { datagramBytes: 46_080, protection: "none" },
  { datagramBytes: 65_507, protection: "none" },
  { datagramBytes: 65_507, protection: "authenticated" },
  { datagramBytes: 46_080, protection: "encrypted" },
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

describe("retainDatagrams keeps large chunks where they arrived", () => {
  /** Pushes a frame's datagrams, overwriting the first one's payload with 0xee after it was pushed. */
  function overwriteAfterPush(datagramBytes: number, retainDatagrams: boolean): { sent: Uint8Array; got: Uint8Array } {
    const frame = rawFrame(4);
    const r = createReassembler({ retainDatagrams });
    const [first, ...rest] = fresh(packetizeFrame(frame, { maxDatagramBytes: datagramBytes, fecOverhead: 0 }));
    expect(framesOf(r.push(first!, 0))).toEqual([]);
    first!.fill(0xee, HEADER_BYTES);
    const [out] = framesOf(rest.flatMap((d) => r.push(d, 0)));
    return { sent: frame.payload, got: out!.payload };
  }

  it.each([
    { datagramBytes: 65_507, retainDatagrams: true, firstChunk: "the bytes of the view, overwritten" },
    { datagramBytes: 46_080, retainDatagrams: true, firstChunk: "the bytes of the view, overwritten" },
    { datagramBytes: 65_507, retainDatagrams: false, firstChunk: "the bytes sent" },
    { datagramBytes: 1472, retainDatagrams: true, firstChunk: "the bytes sent" },
  ])("$datagramBytes B, retainDatagrams $retainDatagrams: the first chunk holds $firstChunk", (c) => {
    const { sent, got } = overwriteAfterPush(c.datagramBytes, c.retainDatagrams);
    const chunk = c.datagramBytes - HEADER_BYTES;
    const expected = c.firstChunk === "the bytes sent" ? sent.subarray(0, chunk) : new Uint8Array(chunk).fill(0xee);
    expect(firstDifference(got.subarray(0, chunk), expected)).toBe(-1);
    expect(firstDifference(got.subarray(chunk), sent.subarray(chunk))).toBe(-1);
  });

  it("counts the whole buffer a view keeps alive, and copies a chunk whose buffer holds several datagrams", () => {
    const frame = rawFrame(5);
    const datagrams = packetizeFrame(frame, { maxDatagramBytes: 65_507, fecOverhead: 0 });
    // A datagram in a buffer 1.5 times its size is kept as a view, counted whole.
    const roomy = new Uint8Array(new ArrayBuffer(98_000), 0, datagrams[0]!.length);
    roomy.set(datagrams[0]!);
    const kept = createReassembler({ retainDatagrams: true });
    kept.push(roomy, 0);
    expect(kept.counters.bufferedBytes).toBeGreaterThanOrEqual(98_000);
    roomy.fill(0xee, HEADER_BYTES);
    const [keptOut] = framesOf(fresh(datagrams.slice(1)).flatMap((d) => kept.push(d, 0)));
    expect(keptOut!.payload[0]).toBe(0xee);
    // packetizeFrame's datagrams are views of one buffer of the whole frame: each chunk is copied, not counted whole.
    const copied = createReassembler({ retainDatagrams: true });
    copied.push(datagrams[0]!, 0);
    expect(copied.counters.bufferedBytes).toBeLessThan(2 * datagrams[0]!.length);
    datagrams[0]!.fill(0xee, HEADER_BYTES);
    const [copiedOut] = framesOf(datagrams.slice(1).flatMap((d) => copied.push(d, 0)));
    expect(firstDifference(copiedOut!.payload, frame.payload)).toBe(-1);
  });

  it("stays within maxBufferedBytes counting what the views keep alive", () => {
    // Three frames of 4 chunks in flight at once; the budget holds the views of six 65,507 B datagrams, not seven.
    const budget = 6 * 65_507 + 4096;
    const r = createReassembler({ retainDatagrams: true, maxBufferedBytes: budget });
    const sent = [rawFrame(6, 4 * 65_463), rawFrame(7, 4 * 65_463), rawFrame(8, 4 * 65_463)];
    const sets = sent.map((f) => fresh(packetizeFrame(f, { maxDatagramBytes: 65_507, fecOverhead: 0 })));
    const events: ReassemblyEvent[] = [];
    const push = (d: Uint8Array): void => {
      events.push(...r.push(d, 0));
      expect(r.counters.bufferedBytes).toBeLessThanOrEqual(budget);
    };
    for (let i = 0; i < 3; i++) for (const set of sets) push(set[i]!);
    for (const set of sets) push(set[3]!);
    // Frame 6's third chunk is the seventh view: a frame that grows keeps its place, the oldest other one (7) goes;
    // then frame 6's last chunk needs room again, and 8 goes.
    const dropped = events.filter((e) => e.type === "dropped");
    expect(dropped.map((e) => [e.frameNumber, e.reason])).toEqual([
      [7, "overflow"],
      [8, "overflow"],
    ]);
    const out = framesOf(events);
    expect(out.map((f) => f.frameNumber)).toEqual([6]);
    expect(firstDifference(out[0]!.payload, sent[0]!.payload)).toBe(-1);
  });
});
