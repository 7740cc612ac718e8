import { describe, expect, it } from "vitest";
import { packetizeFrame, packetizeFrameParts, type FrameToSend, type PacketizeOptions } from "./packetize.js";

/** 921,600 bytes: a raw 640x480 frame; any other size a JPEG. */
function frame(bytes: number): FrameToSend {
  const codec = bytes === 921_600 ? "raw-bgr24" : "jpeg";
  const payload = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) payload[i] = (i * 131 + (i >>> 9)) & 0xff;
  return { streamId: 0x1234abcd, frameNumber: 7, codec, width: 640, height: 480, fps: 25, timestampMs: 1e12, payload };
}

const joined = (parts: { head: Uint8Array; body: Uint8Array }): Uint8Array => {
  const out = new Uint8Array(parts.head.length + parts.body.length);
  out.set(parts.head);
  out.set(parts.body, parts.head.length);
  return out;
};

describe("packetizeFrameParts", () => {
  const cases: [string, number, PacketizeOptions][] = [
    ["raw 640x480 in 65,507 B datagrams", 921_600, { maxDatagramBytes: 65_507, fecOverhead: 0 }],
    ["raw 640x480 in 1,472 B datagrams, FEC 10%", 921_600, { maxDatagramBytes: 1472, fecOverhead: 0.1 }],
    [
      "a JPEG-sized frame, FEC 25% in groups of 5",
      31_337,
      { maxDatagramBytes: 1200, fecOverhead: 0.25, fecGroupSize: 5 },
    ],
    ["one short datagram", 10, {}],
    ["FEC on a single chunk", 100, { fecOverhead: 1 }],
  ];
  it.each(cases)("%s: head + body are packetizeFrame's bytes", (_name, bytes, options) => {
    const input = frame(bytes);
    const whole = packetizeFrame(input, options);
    const parts = packetizeFrameParts(input, options);
    expect(parts.length).toBe(whole.length);
    parts.forEach((part, i) => {
      expect(part.length).toBe(whole[i]!.length);
      expect(joined(part)).toEqual(whole[i]);
    });
  });

  it("the data chunks are views of the payload, not copies", () => {
    const input = frame(200_000);
    const parts = packetizeFrameParts(input, { maxDatagramBytes: 65_507, fecOverhead: 0 });
    expect(parts.every((part) => part.body.buffer === input.payload.buffer)).toBe(true);
    input.payload[0] = input.payload[0]! ^ 0xff;
    expect(parts[0]!.body[0]).toBe(input.payload[0]);
  });

  it("refuses what needs the datagram whole", () => {
    const sign = { tagBytes: 16, sign: () => new Uint8Array(16), verify: () => true };
    expect(() => packetizeFrameParts(frame(100), { authenticator: sign } as PacketizeOptions)).toThrow(RangeError);
    expect(() => packetizeFrameParts(frame(100), { windowSequence: 1 } as PacketizeOptions)).toThrow(RangeError);
  });

  it("refuses what packetizeFrame refuses", () => {
    expect(() => packetizeFrameParts(frame(0))).toThrow(RangeError);
    expect(() => packetizeFrameParts(frame(100), { maxDatagramBytes: 10 })).toThrow(/maxDatagramBytes/);
  });
});

describe("packetizeFrame with allocate", () => {
  it("builds the datagrams in the buffer given, reused dirty: the same bytes as fresh memory", () => {
    let memory: Uint8Array | undefined;
    const allocate = (bytes: number): Uint8Array => (memory ??= new Uint8Array(bytes).fill(0xa5)).subarray(0, bytes);
    for (const options of [
      { maxDatagramBytes: 1472, fecOverhead: 0.1 },
      { maxDatagramBytes: 1472, fecOverhead: 0.1, authenticator: sign16() },
    ]) {
      memory = undefined;
      const first = frame(921_600);
      const second = { ...frame(921_600), frameNumber: 8, payload: first.payload.map((b) => b ^ 0x3c) };
      packetizeFrame(first, { ...options, allocate });
      const reused = packetizeFrame(second, { ...options, allocate });
      expect(reused[0]!.buffer).toBe(memory!.buffer);
      const fresh = packetizeFrame(second, options);
      expect(reused.length).toBe(fresh.length);
      reused.forEach((datagram, i) => expect(Buffer.compare(datagram, fresh[i]!), `datagram ${i}`).toBe(0));
    }
  });

  it("refuses a buffer of another size", () => {
    expect(() => packetizeFrame(frame(100), { allocate: (bytes) => new Uint8Array(bytes - 1) })).toThrow(/allocate/);
  });
});

/** A keyed tag of 16 bytes (a sum over the bytes: enough to see every byte signed). */
function sign16(): { tagBytes: number; sign: (bytes: Uint8Array) => Uint8Array; verify: () => boolean } {
  return {
    tagBytes: 16,
    sign: (bytes) => {
      const tag = new Uint8Array(16);
      bytes.forEach((b, i) => (tag[i % 16] = (tag[i % 16]! * 31 + b) & 0xff));
      return tag;
    },
    verify: () => true,
  };
}
