import { createHmac, hkdfSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { FLAG_ENCRYPTED, FLAG_TAGGED, FLAG_WINDOW, HEADER_BYTES, Offset, SALT_BYTES } from "../header.js";
import { packetizeFrame } from "../packetize.js";
import { createReassembler, type Reassembler, type ReassemblerOptions } from "../reassembler.js";
import type { FrameEvent } from "../reassembly-events.js";
import { firstDifference, prng, randomBytes } from "../testing/random.js";
import {
  createWindowFecEncoder,
  isRepairFailure,
  looksLikeRepair,
  REPAIR_HEADER_BYTES,
  tryDecodeRepair,
} from "../window-fec.js";
import { createKeyring, keyFromSecret, REPAIR_INFO, type Keyring } from "./keyring.js";

/**
 * Window FEC on an encrypted stream (flag E): the sources are AEAD-sealed datagrams, the repairs
 * carry their newest source's salt and an HMAC-SHA-256 tag under a key HKDF derives for that salt
 * (info REPAIR_INFO), never the AEAD.
 */

const STREAM = 0x0e0c_0001;
const FRAME_MS = 40;
const KEY = keyFromSecret("window fec encryption key, test only");
const NEW_KEY = keyFromSecret("the key after the rotation, test only");

interface Sent {
  readonly frames: Uint8Array[];
  readonly datagrams: { bytes: Uint8Array; atMs: number; frame: number }[];
}

/** Frames of about 19 datagrams (a 640x480 JPEG), sealed by `keys`, window FEC at 15%; `rekey` at a frame. */
function send(
  count: number,
  keys: Keyring,
  options: { seed?: number; rekey?: { atFrame: number; key: Uint8Array } } = {},
): Sent {
  const random = prng(options.seed ?? 1);
  const encoder = createWindowFecEncoder({ streamId: STREAM, overhead: 0.15, windowMs: 100, cipher: keys.cipher });
  const frames: Uint8Array[] = [];
  const datagrams: Sent["datagrams"] = [];
  for (let f = 0; f < count; f++) {
    if (options.rekey?.atFrame === f) keys.setKeys([options.rekey.key]);
    const payload = randomBytes(random, 24_000 + Math.floor(random() * 6000));
    frames.push(payload);
    const nowMs = f * FRAME_MS;
    const sources = packetizeFrame(
      {
        streamId: STREAM,
        frameNumber: f,
        codec: "jpeg",
        width: 640,
        height: 480,
        fps: 25,
        timestampMs: 1_700_000_000_000 + nowMs,
        payload,
      },
      { fecOverhead: 0, windowSequence: encoder.nextSequence, cipher: keys.cipher },
    );
    encoder.protect(sources, nowMs).forEach((bytes, i) => datagrams.push({ bytes, atMs: nowMs + i * 1.5, frame: f }));
  }
  return { frames, datagrams };
}

function receive(
  datagrams: Sent["datagrams"],
  options: ReassemblerOptions,
): { frames: FrameEvent[]; reassembler: Reassembler } {
  const reassembler = createReassembler({ latencyMs: 100, ...options });
  const frames: FrameEvent[] = [];
  const take = (events: ReturnType<Reassembler["push"]>): void => {
    for (const e of events) if (e.type === "frame") frames.push(e);
  };
  for (const d of datagrams) {
    take(reassembler.expire(d.atMs));
    take(reassembler.push(d.bytes, d.atMs));
  }
  const end = datagrams[datagrams.length - 1]!.atMs;
  for (let t = end; t <= end + 1000; t += 10) take(reassembler.expire(t));
  return { frames, reassembler };
}

/** Every frame emitted is the one sent under its number, byte for byte, in order. */
function expectIntact(sent: Sent, frames: readonly FrameEvent[]): void {
  let last = -1;
  for (const f of frames) {
    expect(f.frameNumber).toBeGreaterThan(last);
    last = f.frameNumber;
    expect(firstDifference(f.payload, sent.frames[f.frameNumber]!), `frame ${f.frameNumber}`).toBe(-1);
  }
}

/** Indexes of a burst of `length` datagrams across the start of each frame in `frames`. */
function burstsAt(sent: Sent, frames: readonly number[], length = 4): Set<number> {
  const lost = new Set<number>();
  for (const f of frames) {
    const boundary = sent.datagrams.findIndex((d) => d.frame === f);
    for (let i = boundary - length / 2; i < boundary + length / 2; i++) lost.add(i);
  }
  return lost;
}

const isRepair = (d: { bytes: Uint8Array }): boolean => looksLikeRepair(d.bytes);
const sourcesAmong = (sent: Sent, lost: Set<number>): number =>
  [...lost].filter((i) => !isRepair(sent.datagrams[i]!)).length;

/** Whether any 16-byte run of `needle` appears in `haystack`. */
function sharesRun(haystack: Uint8Array, needles: readonly Uint8Array[]): boolean {
  const blocks = new Set<string>();
  for (const n of needles)
    for (let i = 0; i + 16 <= n.length; i += 8) blocks.add(Buffer.from(n.subarray(i, i + 16)).toString("latin1"));
  for (let i = 0; i + 16 <= haystack.length; i++)
    if (blocks.has(Buffer.from(haystack.subarray(i, i + 16)).toString("latin1"))) return true;
  return false;
}

describe("window FEC with encryption: wire", () => {
  it("repairs set W, E and A, carry their newest source's salt, and are tagged with HMAC-SHA-256 under HKDF(key, salt, REPAIR_INFO)", () => {
    const sent = send(6, createKeyring([KEY]));
    const repairs = sent.datagrams.filter(isRepair);
    const sources = sent.datagrams.filter((d) => !isRepair(d));
    expect(repairs.length).toBeGreaterThan(10);
    for (const s of sources) expect(s.bytes[Offset.flags]).toBe(FLAG_WINDOW | FLAG_ENCRYPTED | FLAG_TAGGED);
    for (const r of repairs) {
      expect(r.bytes.length).toBeLessThanOrEqual(1472);
      expect(r.bytes[Offset.flags]).toBe(FLAG_WINDOW | FLAG_ENCRYPTED | FLAG_TAGGED);
      const decoded = tryDecodeRepair(r.bytes);
      if (isRepairFailure(decoded)) throw new Error(decoded.message);
      // The salt of the newest source it covers (the source with sequence E).
      const newest = sources.find(
        (s) =>
          new DataView(s.bytes.buffer, s.bytes.byteOffset).getUint32(HEADER_BYTES + SALT_BYTES) === decoded.windowEnd,
      )!;
      expect(
        Buffer.from(decoded.salt!).equals(Buffer.from(newest.bytes.subarray(HEADER_BYTES, HEADER_BYTES + SALT_BYTES))),
      ).toBe(true);
      // The tag, computed here from the definition with node:crypto alone.
      const macKey = Buffer.from(hkdfSync("sha256", KEY, decoded.salt!, REPAIR_INFO, 32));
      const aeadKey = Buffer.from(hkdfSync("sha256", KEY, decoded.salt!, "udpcam v1 payload chacha20-poly1305", 32));
      expect(macKey.equals(aeadKey)).toBe(false);
      const tag = createHmac("sha256", macKey)
        .update(r.bytes.subarray(0, r.bytes.length - 16))
        .digest()
        .subarray(0, 16);
      expect(Buffer.from(decoded.tag!).equals(tag)).toBe(true);
      expect(decoded.signed.length).toBe(REPAIR_HEADER_BYTES + SALT_BYTES + decoded.symbol.length);
    }
    // No 16-byte run of any frame's plaintext in any datagram, repairs included.
    for (const d of sent.datagrams) expect(sharesRun(d.bytes, sent.frames)).toBe(false);
    // The check finds a run where there is one.
    expect(sharesRun(sent.frames[2]!.subarray(100, 200), sent.frames)).toBe(true);
  });
});

describe("window FEC with encryption: recovery", () => {
  it("rebuilds bursts of 4 across frame boundaries: every frame emitted, byte for byte, each rebuilt source opened", () => {
    const sent = send(20, createKeyring([KEY]), { seed: 2 });
    const lost = burstsAt(sent, [3, 7, 12, 16]);
    const { frames, reassembler } = receive(
      sent.datagrams.filter((_, i) => !lost.has(i)),
      { cipher: createKeyring([KEY]).cipher },
    );
    expect(frames.map((f) => f.frameNumber)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expectIntact(sent, frames);
    const c = reassembler.counters;
    expect(c.sourcesRecovered).toBe(sourcesAmong(sent, lost));
    // Each rebuilt datagram went through the AEAD and opened, as one that arrived.
    const arrivedSources = sent.datagrams.filter((d, i) => !lost.has(i) && !isRepair(d)).length;
    expect(c.datagramsDecrypted).toBe(arrivedSources + c.sourcesRecovered);
    expect(c.datagramsUnauthenticated + c.repairsUnmatched + c.repairsInconsistent).toBe(0);
  });

  it("across salt changes (the schedule's new salt every 5 frames): repairs of each salt rebuild their bursts", () => {
    const sent = send(20, createKeyring([KEY], { maxFramesPerSalt: 5 }), { seed: 3 });
    const salts = new Set(
      sent.datagrams
        .filter((d) => !isRepair(d))
        .map((d) => Buffer.from(d.bytes.subarray(HEADER_BYTES, HEADER_BYTES + SALT_BYTES)).toString("hex")),
    );
    expect(salts.size).toBe(4);
    const lost = burstsAt(sent, [5, 10, 15]);
    const { frames, reassembler } = receive(
      sent.datagrams.filter((_, i) => !lost.has(i)),
      { cipher: createKeyring([KEY]).cipher },
    );
    expect(frames).toHaveLength(20);
    expectIntact(sent, frames);
    expect(reassembler.counters.sourcesRecovered).toBe(sourcesAmong(sent, lost));
  });

  it("key rotation: a receiver holding the new and the previous key rebuilds bursts on both sides of it; one with only the old key takes nothing after it", () => {
    const sent = send(20, createKeyring([KEY]), { seed: 4, rekey: { atFrame: 10, key: NEW_KEY } });
    const lost = burstsAt(sent, [6, 10, 14]);
    const lossy = sent.datagrams.filter((_, i) => !lost.has(i));
    const grace = receive(lossy, { cipher: createKeyring([NEW_KEY, KEY]).cipher });
    expect(grace.frames).toHaveLength(20);
    expectIntact(sent, grace.frames);
    expect(grace.reassembler.counters.sourcesRecovered).toBe(sourcesAmong(sent, lost));
    expect(grace.reassembler.counters.datagramsUnauthenticated).toBe(0);

    const stale = receive(lossy, { cipher: createKeyring([KEY]).cipher });
    // Every frame sealed with the old key: frame 9's repairs follow its last source, under the old key too.
    expect(stale.frames.map((f) => f.frameNumber)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expectIntact(sent, stale.frames);
    // Everything made with the new key is refused: sources and repairs alike.
    const rotated = lossy.filter((d) => d.frame >= 10).length;
    const c = stale.reassembler.counters;
    // Exactly the datagrams of frames 10 on: a frame's repairs go out with it, under its key.
    expect(c.datagramsUnauthenticated).toBe(rotated);
  });
});

describe("window FEC with encryption: strangers' repairs", () => {
  it("forged, altered and cut repairs are refused and counted, never throw, never yield a frame", () => {
    const sent = send(12, createKeyring([KEY]), { seed: 5 });
    const lost = burstsAt(sent, [4, 8]);
    const random = prng(11);
    let bad = 0;
    const datagrams = sent.datagrams
      .filter((_, i) => !lost.has(i))
      .map((d) => {
        if (!isRepair(d)) return d;
        const bytes = d.bytes.slice();
        switch (bad++ % 4) {
          case 0: // Forged: a real header and salt, noise after it.
            for (let j = REPAIR_HEADER_BYTES + SALT_BYTES; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
            return { ...d, bytes };
          case 1: {
            // Altered: one bit anywhere but the flags and mark, which make it another kind of datagram (below).
            const at = [4, 8, 11, 12, 14, 16, 20, 35, 36, bytes.length - 17, bytes.length - 1][
              Math.floor(random() * 11)
            ]!;
            bytes[at]! ^= 1 << Math.floor(random() * 8);
            return { ...d, bytes };
          }
          case 2: // Flag E cleared: the salt is then read as symbol, and the length no longer fits (malformed).
            bytes[Offset.flags]! &= ~FLAG_ENCRYPTED;
            return { ...d, bytes };
          default: // Cut.
            return { ...d, bytes: bytes.subarray(0, 1 + Math.floor(random() * (bytes.length - 1))) };
        }
      });
    let result: ReturnType<typeof receive> | undefined;
    expect(() => (result = receive(datagrams, { cipher: createKeyring([KEY]).cipher }))).not.toThrow();
    const { frames, reassembler } = result!;
    const c = reassembler.counters;
    // Every bad repair lands in one refusal counter; none is used.
    expect(c.datagramsUnauthenticated + c.datagramsMalformed + c.datagramsUnencrypted).toBe(bad);
    expect(c.datagramsUnauthenticated).toBeGreaterThan(0);
    expect(c.datagramsMalformed).toBeGreaterThan(0);
    expect(c.datagramsRepair + c.sourcesRecovered).toBe(0);
    // The frames whose sources the bursts cut are not emitted; the others are, intact.
    const cut = new Set([...lost].filter((i) => !isRepair(sent.datagrams[i]!)).map((i) => sent.datagrams[i]!.frame));
    expect(frames.map((f) => f.frameNumber)).toEqual(
      Array.from({ length: 12 }, (_, i) => i).filter((n) => !cut.has(n)),
    );
    expectIntact(sent, frames);
  });

  it("a key holder's repairs of another run (same stream id, same key, its own salt) are counted unmatched and not used", () => {
    const keys = createKeyring([KEY]);
    const earlier = send(12, keys, { seed: 6 });
    const now = send(12, createKeyring([KEY]), { seed: 7 });
    const lost = burstsAt(now, [4, 8]);
    // This run's sources with its bursts, and the earlier run's repairs in place of its own.
    const mixed = [
      ...now.datagrams.filter((d, i) => !lost.has(i) && !isRepair(d)),
      ...earlier.datagrams.filter(isRepair),
    ].sort((a, b) => a.atMs - b.atMs);
    const { frames, reassembler } = receive(mixed, { cipher: createKeyring([KEY]).cipher });
    const c = reassembler.counters;
    expect(c.repairsUnmatched).toBe(earlier.datagrams.filter(isRepair).length);
    expect(c.sourcesRecovered + c.repairsReceived).toBe(0);
    expect(frames.map((f) => f.frameNumber)).not.toContain(4);
    expect(frames.map((f) => f.frameNumber)).not.toContain(8);
    expectIntact(now, frames);
  });

  it("a repair with no verified source of its stream starts no stream and keeps no state; replays of this run's repairs are harmless", () => {
    const sent = send(8, createKeyring([KEY]), { seed: 8 });
    const repairs = sent.datagrams.filter(isRepair);
    const alone = receive(repairs, { cipher: createKeyring([KEY]).cipher });
    expect(alone.reassembler.counters).toMatchObject({
      repairsUnmatched: repairs.length,
      streams: 0,
      windowBytes: 0,
    });
    expect(alone.frames).toHaveLength(0);
    // The whole run twice over: every frame once, the repeats of repairs unneeded.
    const twice = receive([...sent.datagrams, ...sent.datagrams.map((d) => ({ ...d, atMs: d.atMs + 400 }))], {
      cipher: createKeyring([KEY]).cipher,
    });
    expect(twice.frames).toHaveLength(8);
    expectIntact(sent, twice.frames);
    expect(twice.reassembler.counters.repairsUnneeded).toBeGreaterThanOrEqual(2 * repairs.length - 1);
  });

  it("an encrypted stream's repairs at a receiver without a key, or with the authenticator only, are counted like its sources", () => {
    const sent = send(4, createKeyring([KEY]));
    const repairs = sent.datagrams.filter(isRepair);
    const none = receive(sent.datagrams, {});
    expect(none.reassembler.counters.datagramsAuthRequired).toBe(sent.datagrams.length);
    const hmacOnly = receive(sent.datagrams, { authenticator: createKeyring([KEY]).authenticator });
    expect(hmacOnly.reassembler.counters.datagramsUnauthenticated).toBe(sent.datagrams.length);
    expect(none.frames.length + hmacOnly.frames.length).toBe(0);
    expect(repairs.length).toBeGreaterThan(0);
  });
});
