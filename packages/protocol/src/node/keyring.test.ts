import { createDecipheriv, hkdfSync, scryptSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { writeNonce, NONCE_BYTES } from "../encryption.js";
import { decodeDatagram, FLAG_ENCRYPTED, FLAG_TAGGED, HEADER_BYTES, Offset, SALT_BYTES } from "../header.js";
import { packetizeFrame, type FrameToSend } from "../packetize.js";
import { createReassembler, type ReassemblerOptions } from "../reassembler.js";
import { prng, randomBytes } from "../testing/random.js";
import {
  AEAD_TAG_BYTES,
  createKeyring,
  keyFromPassphrase,
  keyFromSecret,
  MIN_PASSPHRASE_LENGTH,
  PASSPHRASE_SALT,
  PASSPHRASE_SCRYPT,
} from "./keyring.js";

const KEY = keyFromSecret("a shared key of some length");
const OTHER = keyFromSecret("another key of some length!");
const random = prng(17);

function frame(frameNumber: number, bytes = 5000, streamId = 0x0a0b0c0d): FrameToSend {
  return {
    streamId,
    frameNumber,
    codec: "jpeg",
    width: 8,
    height: 8,
    fps: 25,
    timestampMs: 1_700_000_000_000,
    payload: randomBytes(random, bytes),
  };
}

function frames(options: ReassemblerOptions, datagrams: readonly Uint8Array[]) {
  const r = createReassembler(options);
  const out = datagrams.flatMap((d) => r.push(d, 0)).filter((e) => e.type === "frame");
  return { frames: out, counters: r.counters };
}

/** Longest run of bytes of `needle` found anywhere in `haystack` (from any start), up to `cap`. */
function hasRun(haystack: Uint8Array, needle: Uint8Array, run: number): boolean {
  const index = new Map<string, true>();
  for (let i = 0; i + run <= needle.length; i++)
    index.set(Buffer.from(needle.subarray(i, i + run)).toString("latin1"), true);
  for (let i = 0; i + run <= haystack.length; i++)
    if (index.has(Buffer.from(haystack.subarray(i, i + run)).toString("latin1"))) return true;
  return false;
}

describe("encrypted datagrams (flag E)", () => {
  it("round trip: the reassembler opens and emits the frame byte for byte; the wire holds no run of it", () => {
    const sender = createKeyring([KEY]);
    const f = frame(3, 20_000);
    const datagrams = packetizeFrame(f, { cipher: sender.cipher, fecOverhead: 0.2 });
    for (const d of datagrams) {
      expect(d[Offset.flags]).toBe(FLAG_TAGGED | FLAG_ENCRYPTED);
      expect(decodeDatagram(d).tagBytes).toBe(AEAD_TAG_BYTES);
      expect(hasRun(d.subarray(HEADER_BYTES + SALT_BYTES), f.payload, 16)).toBe(false);
    }
    const receiver = createKeyring([KEY]);
    const { frames: out, counters } = frames({ cipher: receiver.cipher }, datagrams);
    expect(out).toHaveLength(1);
    expect(Buffer.compare(out[0]!.type === "frame" ? out[0]!.payload : new Uint8Array(), f.payload)).toBe(0);
    expect(counters.datagramsDecrypted).toBe(counters.datagramsAccepted + counters.datagramsSurplus);
  });

  it("FEC rebuilds encrypted frames: parity datagrams are sealed too", () => {
    const sender = createKeyring([KEY]);
    const f = frame(0, 30_000);
    const datagrams = packetizeFrame(f, { cipher: sender.cipher, fecOverhead: 0.3 });
    const lossy = datagrams.filter((_, i) => i % 7 !== 2);
    const { frames: out, counters } = frames({ cipher: createKeyring([KEY]).cipher }, lossy);
    expect(out).toHaveLength(1);
    expect(counters.framesRecovered).toBe(1);
    expect(Buffer.from((out[0] as { payload: Uint8Array }).payload).equals(Buffer.from(f.payload))).toBe(true);
  });

  it("is ChaCha20-Poly1305 under HKDF-SHA-256(key, salt), nonce = stream id, frame number, chunk index, 0", () => {
    const sender = createKeyring([KEY]);
    const f = frame(0x01020304, 100);
    const [datagram] = packetizeFrame(f, { cipher: sender.cipher });
    const d = decodeDatagram(datagram!);
    const subkey = Buffer.from(hkdfSync("sha256", KEY, d.salt!, "udpcam v1 payload chacha20-poly1305", 32));
    const nonce = writeNonce(new Uint8Array(NONCE_BYTES), f.streamId, f.frameNumber, 0);
    expect(Buffer.from(nonce).toString("hex")).toBe("0a0b0c0d010203040000" + "0000");
    const decipher = createDecipheriv("chacha20-poly1305", subkey, nonce, { authTagLength: 16 });
    decipher.setAAD(datagram!.subarray(0, HEADER_BYTES + SALT_BYTES), { plaintextLength: d.payload.length });
    decipher.setAuthTag(d.tag!);
    const plain = Buffer.concat([decipher.update(d.payload), decipher.final()]);
    expect(plain.equals(Buffer.from(f.payload))).toBe(true);
  });

  it("every single bit flipped anywhere (header, salt, payload, tag) is refused; the untouched stream still records", () => {
    const sender = createKeyring([KEY]);
    const good = [frame(0, 300), frame(1, 300)].flatMap((f) => packetizeFrame(f, { cipher: sender.cipher }));
    const r = createReassembler({ cipher: createKeyring([KEY]).cipher });
    const target = good[0]!;
    let refused = 0;
    for (let bit = 0; bit < target.length * 8; bit++) {
      const bad = target.slice();
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(r.push(bad, 0)).toEqual([]);
      refused++;
    }
    const c = r.counters;
    expect(c.datagramsAccepted).toBe(0);
    expect(c.datagramsUnauthenticated + c.datagramsMalformed + c.datagramsUntagged + c.datagramsUnencrypted).toBe(
      refused,
    );
    // Flips of the payload, salt and tag all reach the AEAD and fail there.
    expect(c.datagramsUnauthenticated).toBeGreaterThanOrEqual((target.length - HEADER_BYTES) * 8);
    const emitted = good.flatMap((d) => r.push(d, 0)).filter((e) => e.type === "frame");
    expect(emitted.map((e) => e.frameNumber)).toEqual([0, 1]);
  });

  it("every truncation is refused, and so is a replay: each frame once", () => {
    const sender = createKeyring([KEY]);
    const good = packetizeFrame(frame(0, 3000), { cipher: sender.cipher });
    const r = createReassembler({ cipher: createKeyring([KEY]).cipher });
    for (const d of good) for (let n = 0; n < d.length; n++) expect(r.push(d.subarray(0, n), 0)).toEqual([]);
    expect(r.counters.datagramsAccepted).toBe(0);
    const first = good.flatMap((d) => r.push(d, 0)).filter((e) => e.type === "frame");
    const surplus = r.counters.datagramsSurplus;
    const replay = good.flatMap((d) => r.push(d, 0)).filter((e) => e.type === "frame");
    expect([first.length, replay.length]).toEqual([1, 0]);
    expect(r.counters.datagramsSurplus - surplus).toBe(good.length);
  });

  it("another key opens nothing; a keyring holding both keys (a rotation's grace period) opens either", () => {
    const datagrams = [
      ...packetizeFrame(frame(0), { cipher: createKeyring([KEY]).cipher }),
      ...packetizeFrame(frame(1), { cipher: createKeyring([OTHER]).cipher }),
    ];
    expect(frames({ cipher: createKeyring([OTHER]).cipher }, datagrams).frames.map((e) => e.frameNumber)).toEqual([1]);
    const both = createKeyring([OTHER, KEY]);
    expect(frames({ cipher: both.cipher }, datagrams).frames.map((e) => e.frameNumber)).toEqual([0, 1]);
    both.setKeys([OTHER]);
    const after = frames({ cipher: both.cipher }, [
      ...packetizeFrame(frame(2), { cipher: createKeyring([KEY]).cipher }),
      ...packetizeFrame(frame(3), { cipher: createKeyring([OTHER]).cipher }),
    ]);
    expect(after.frames.map((e) => e.frameNumber)).toEqual([3]);
    expect(after.counters.datagramsUnauthenticated).toBeGreaterThan(0);
  });

  it("modes: a cipher alone refuses authentication-only datagrams; with an authenticator too it takes both", () => {
    const keys = createKeyring([KEY]);
    const authOnly = packetizeFrame(frame(0), { authenticator: keys.authenticator });
    const encrypted = packetizeFrame(frame(1), { cipher: keys.cipher });
    const strict = frames({ cipher: createKeyring([KEY]).cipher }, [...authOnly, ...encrypted]);
    expect(strict.frames.map((e) => e.frameNumber)).toEqual([1]);
    expect(strict.counters.datagramsUnencrypted).toBe(authOnly.length);
    const r = createKeyring([KEY]);
    const lenient = frames({ cipher: r.cipher, authenticator: r.authenticator }, [...authOnly, ...encrypted]);
    expect(lenient.frames.map((e) => e.frameNumber)).toEqual([0, 1]);
    expect(lenient.counters.datagramsDecrypted).toBe(encrypted.length);
    // An authenticator alone cannot open them; no key at all says a key is needed.
    expect(frames({ authenticator: r.authenticator }, encrypted).counters.datagramsUnauthenticated).toBe(
      encrypted.length,
    );
    expect(frames({}, encrypted).counters.datagramsAuthRequired).toBe(encrypted.length);
    expect(() => packetizeFrame(frame(2), { cipher: r.cipher, authenticator: r.authenticator })).toThrow("give one");
  });
});

describe("nonces never repeat under a subkey", () => {
  /** Every (salt, nonce) the datagrams carry, as text. */
  function nonces(datagrams: readonly Uint8Array[]): string[] {
    return datagrams.map((bytes) => {
      const d = decodeDatagram(bytes);
      const nonce = writeNonce(new Uint8Array(NONCE_BYTES), d.streamId, d.frameNumber, d.chunkIndex);
      return `${Buffer.from(d.salt!).toString("hex")}/${Buffer.from(nonce).toString("hex")}`;
    });
  }

  it("across the frame-number wrap: the salt changes before a frame number comes round again", () => {
    const keys = createKeyring([KEY], { maxFramesPerSalt: 4 });
    const numbers = [0xfffffffd, 0xfffffffe, 0xffffffff, 0, 1, 2, 3, 4, 5];
    const datagrams = numbers.flatMap((n) => packetizeFrame(frame(n, 3000), { cipher: keys.cipher }));
    const all = nonces(datagrams);
    expect(new Set(all).size).toBe(all.length);
    const salts = new Set(datagrams.map((d) => Buffer.from(decodeDatagram(d).salt!).toString("hex")));
    expect(salts.size).toBe(3); // 4 + 4 + 1 frames
    // The receiver follows the rekey (one HKDF per new salt) and emits every frame.
    const receiver = createKeyring([KEY]);
    const { frames: out } = frames({ cipher: receiver.cipher }, datagrams);
    expect(out.map((e) => e.frameNumber)).toEqual(numbers);
    expect(receiver.derivations).toBe(3);
  });

  it("a frame number sealed again (a retry, a restart, another stream) takes a new salt", () => {
    const keys = createKeyring([KEY]);
    const salt = (f: FrameToSend) =>
      Buffer.from(decodeDatagram(packetizeFrame(f, { cipher: keys.cipher })[0]!).salt!).toString("hex");
    const a = salt(frame(7));
    expect(salt(frame(8))).toBe(a);
    const again = salt(frame(8));
    expect(again).not.toBe(a);
    expect(salt(frame(9))).toBe(again);
    expect(salt(frame(10, 100, 5))).not.toBe(again);
    // Two keyrings (two runs) never share a salt.
    expect(salt(frame(0))).not.toBe(
      Buffer.from(decodeDatagram(packetizeFrame(frame(0), { cipher: createKeyring([KEY]).cipher })[0]!).salt!).toString(
        "hex",
      ),
    );
  });
});

describe("what forged salts cost a receiver", () => {
  it("one HKDF per forged datagram and key held, and they never push the real run's subkey out", () => {
    const sender = createKeyring([KEY]);
    const receiver = createKeyring([KEY, OTHER]);
    const r = createReassembler({ cipher: receiver.cipher });
    const real = packetizeFrame(frame(0, 3000), { cipher: sender.cipher });
    real.forEach((d) => r.push(d, 0));
    const before = receiver.derivations;
    const forged = Array.from({ length: 500 }, (_, i) => {
      const d = real[i % real.length]!.slice();
      d.set(randomBytes(random, SALT_BYTES), HEADER_BYTES);
      return d;
    });
    forged.forEach((d) => r.push(d, 0));
    expect(receiver.derivations - before).toBe(2 * forged.length);
    expect(r.counters.datagramsUnauthenticated).toBe(forged.length);
    const next = packetizeFrame(frame(1, 3000), { cipher: sender.cipher });
    const atNext = receiver.derivations;
    expect(next.flatMap((d) => r.push(d, 0)).filter((e) => e.type === "frame")).toHaveLength(1);
    expect(receiver.derivations).toBe(atNext);
  });
});

describe("keys", () => {
  it("a passphrase is stretched with scrypt (N 2^15, r 8, p 1) and the fixed salt; the same one gives the same key", () => {
    const key = keyFromPassphrase("correct horse battery");
    expect(Buffer.from(key).equals(scryptSync("correct horse battery", PASSPHRASE_SALT, 32, PASSPHRASE_SCRYPT))).toBe(
      true,
    );
    expect(Buffer.from(keyFromPassphrase("correct horse battery")).equals(Buffer.from(key))).toBe(true);
    expect(Buffer.from(keyFromPassphrase("correct horse batterY")).equals(Buffer.from(key))).toBe(false);
    expect(() => keyFromPassphrase("x".repeat(MIN_PASSPHRASE_LENGTH - 1))).toThrow("at least 10 characters");
  });

  it("the keyring's authenticator is today's HMAC for a raw key (old peers keep working)", async () => {
    const { createHmacAuthenticator } = await import("./hmac-authenticator.js");
    const bytes = new TextEncoder().encode("a header and a payload");
    const secret = "a shared key of some length";
    expect(Buffer.from(createKeyring([keyFromSecret(secret)]).authenticator.sign(bytes)).toString("hex")).toBe(
      Buffer.from(createHmacAuthenticator(secret).sign(bytes)).toString("hex"),
    );
  });
});
