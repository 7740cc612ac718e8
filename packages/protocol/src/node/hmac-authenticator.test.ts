import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeDatagram } from "../header.js";
import { packetizeFrame } from "../packetize.js";
import { createReassembler } from "../reassembler.js";
import { createHmacAuthenticator, TAG_BYTES } from "./index.js";

const bytes = new TextEncoder().encode("a header and a payload");

describe("createHmacAuthenticator", () => {
  it("signs with the first 16 bytes of HMAC-SHA-256 keyed with the key's UTF-8 bytes", () => {
    const key = "correct horse battery staple é";
    const tag = createHmacAuthenticator(key).sign(bytes);
    expect(TAG_BYTES).toBe(16);
    expect(tag).toHaveLength(TAG_BYTES);
    expect(Buffer.from(tag).toString("hex")).toBe(
      createHmac("sha256", Buffer.from(key, "utf8")).update(bytes).digest("hex").slice(0, 32),
    );
  });

  it("verifies its own tags and refuses another key's, a changed byte and a tag of another length", () => {
    const a = createHmacAuthenticator("key number one, long enough");
    const b = createHmacAuthenticator("key number two, long enough");
    const tag = a.sign(bytes);
    expect(a.verify(bytes, tag)).toBe(true);
    expect(b.verify(bytes, tag)).toBe(false);
    const changed = bytes.slice();
    changed[0]! ^= 1;
    expect(a.verify(changed, tag)).toBe(false);
    expect(a.verify(bytes, tag.subarray(0, 15))).toBe(false);
    expect(a.verify(bytes, new Uint8Array(32))).toBe(false);
  });

  it("is what packetizeFrame and the reassembler take: tagged datagrams in, the frame out, only with the key", () => {
    const key = "a shared key of some length";
    const frame = {
      streamId: 1,
      frameNumber: 0,
      codec: "jpeg",
      width: 8,
      height: 8,
      fps: 25,
      timestampMs: 0,
      payload: new Uint8Array(5000).fill(7),
    } as const;
    const datagrams = packetizeFrame(frame, { authenticator: createHmacAuthenticator(key) });
    expect(decodeDatagram(datagrams[0]!).tagBytes).toBe(TAG_BYTES);
    const right = createReassembler({ authenticator: createHmacAuthenticator(key) });
    expect(datagrams.flatMap((d) => right.push(d, 0)).filter((e) => e.type === "frame")).toHaveLength(1);
    const wrong = createReassembler({ authenticator: createHmacAuthenticator("another key of some length") });
    datagrams.forEach((d) => wrong.push(d, 0));
    expect(wrong.counters.datagramsUnauthenticated).toBe(datagrams.length);
  });
});
