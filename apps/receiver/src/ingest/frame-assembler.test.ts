import { Codec, LEGACY_FRAME_BYTES, packetizeFrame, packetizeLegacyFrame } from "@udpcam/protocol";
import { createHmacAuthenticator, createKeyring, keyFromSecret } from "@udpcam/protocol/node";
import { describe, expect, it } from "vitest";
import { createLegacyAssembler, createV1Assembler, LEGACY_STREAM_ID } from "./frame-assembler.js";

const KEY = "a shared key of some length";
const NEW_KEY = "the key after a rotation!";

function legacyFrame(fill: number): Uint8Array[] {
  return packetizeLegacyFrame(new Uint8Array(LEGACY_FRAME_BYTES).fill(fill));
}

describe("v1 assembler", () => {
  const v1 = () =>
    createV1Assembler({ key: undefined, encrypt: true, maxFrameBytes: 1 << 20, frameTimeout: 1000, latency: 100 });

  it("emits the protocol's frame event with the sender's metadata", () => {
    const assembler = v1();
    const payload = new Uint8Array(5000).map((_, i) => i & 0xff);
    const datagrams = packetizeFrame({
      streamId: 7,
      frameNumber: 3,
      codec: Codec.Jpeg,
      width: 64,
      height: 48,
      fps: 30,
      timestampMs: 1234.5,
      payload,
    });
    const frames = datagrams.flatMap((d) => assembler.push(d, 10));
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({
      type: "frame",
      streamId: 7,
      frameNumber: 3,
      codec: "jpeg",
      width: 64,
      height: 48,
      fps: 30,
      timestampMs: 1234.5,
    });
    expect(frames[0]?.payload).toEqual(payload);
    expect(assembler.senderClock).toBe(true);
  });

  it("counts datagrams of the original scripts' format apart, so the receiver can say --protocol legacy", () => {
    const assembler = v1();
    for (const d of legacyFrame(9).slice(0, 5)) expect(assembler.push(d, 0)).toEqual([]);
    const counters = assembler.counters();
    expect(counters).toMatchObject({ format: "v1", datagramsMalformed: 5, datagramsLegacyLike: 5 });
  });

  it("with --encrypt off: accepts datagrams tagged with its key, and encrypted ones", () => {
    const assembler = createV1Assembler({
      key: keyFromSecret(KEY),
      encrypt: false,
      maxFrameBytes: 1 << 20,
      frameTimeout: 1000,
      latency: 100,
    });
    const frame = {
      streamId: 1,
      frameNumber: 0,
      codec: Codec.Jpeg,
      width: 8,
      height: 8,
      fps: 25,
      timestampMs: 0,
      payload: new Uint8Array(100),
    };
    const untagged = packetizeFrame(frame);
    expect(untagged.flatMap((d) => assembler.push(d, 0))).toEqual([]);
    const signed = packetizeFrame({ ...frame, frameNumber: 1 }, { authenticator: createHmacAuthenticator(KEY) });
    expect(signed.flatMap((d) => assembler.push(d, 0))).toHaveLength(1);
    expect(assembler.counters()).toMatchObject({ datagramsUntagged: untagged.length, framesComplete: 1 });
    const sealed = packetizeFrame({ ...frame, frameNumber: 2 }, { cipher: createKeyring([keyFromSecret(KEY)]).cipher });
    expect(sealed.flatMap((d) => assembler.push(d, 0))).toHaveLength(1);
  });

  it("with --encrypt on: only encrypted datagrams; setKeys rotates (both keys in the grace period, then the new one)", () => {
    const assembler = createV1Assembler({
      key: keyFromSecret(KEY),
      encrypt: true,
      maxFrameBytes: 1 << 20,
      frameTimeout: 1000,
      latency: 100,
    });
    const frame = (frameNumber: number) => ({
      streamId: 1,
      frameNumber,
      codec: Codec.Jpeg,
      width: 8,
      height: 8,
      fps: 25,
      timestampMs: 0,
      payload: new Uint8Array(100).fill(frameNumber),
    });
    const sealedWith = (key: string, n: number) =>
      packetizeFrame(frame(n), { cipher: createKeyring([keyFromSecret(key)]).cipher });
    const push = (datagrams: Uint8Array[]) => datagrams.flatMap((d) => assembler.push(d, 0)).length;
    expect(push(packetizeFrame(frame(0), { authenticator: createHmacAuthenticator(KEY) }))).toBe(0);
    expect(assembler.counters()).toMatchObject({ datagramsUnencrypted: 2 });
    expect(push(sealedWith(KEY, 1))).toBe(1);
    assembler.setKeys?.([keyFromSecret(NEW_KEY), keyFromSecret(KEY)]);
    expect([push(sealedWith(KEY, 2)), push(sealedWith(NEW_KEY, 3))]).toEqual([1, 1]);
    assembler.setKeys?.([keyFromSecret(NEW_KEY)]);
    expect([push(sealedWith(KEY, 4)), push(sealedWith(NEW_KEY, 5))]).toEqual([0, 1]);
    expect(assembler.counters()).toMatchObject({ datagramsUnauthenticated: 2, framesComplete: 4 });
  });
});

describe("legacy assembler", () => {
  it("gives the seed's frames the format's constants: stream 0, 640x480 raw, 25 fps", () => {
    const assembler = createLegacyAssembler({ mode: "strict", kernelDrops: () => 0 });
    const frames = legacyFrame(5).flatMap((d) => assembler.push(d, 0));
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({
      streamId: LEGACY_STREAM_ID,
      codec: "raw-bgr24",
      width: 640,
      height: 480,
      fps: 25,
    });
    expect(frames[0]?.payload.every((b) => b === 5)).toBe(true);
    expect(assembler.senderClock).toBe(false);
  });

  it("in strict mode drops a frame during which the kernel dropped datagrams, and counts it", () => {
    let drops = 0;
    const assembler = createLegacyAssembler({ mode: "strict", kernelDrops: () => drops });
    const datagrams = legacyFrame(1);
    const frames = datagrams.flatMap((d, i) => {
      if (i === 10) drops += 20; // a whole frame's worth lost mid-frame: indexes still look in order
      return assembler.push(d, 0);
    });
    expect(frames).toEqual([]);
    expect(legacyFrame(2).flatMap((d) => assembler.push(d, 0))).toHaveLength(1);
    expect(assembler.counters()).toMatchObject({ format: "legacy", framesDroppedForKernelLoss: 1, framesComplete: 2 });
  });

  it("in strict mode drops a frame whose datagram the kernel dropped before its index 0 was read", () => {
    let drops = 0;
    const assembler = createLegacyAssembler({ mode: "strict", kernelDrops: () => drops });
    expect(legacyFrame(1).flatMap((d) => assembler.push(d, 0))).toHaveLength(1);
    // The buffer held frame 2's first datagrams when one of its later ones arrived to a full buffer: the count
    // moves before index 0 is read, and the chunks of frame 3 that fill the gap would read as frame 2.
    drops += 1;
    expect(legacyFrame(2).flatMap((d) => assembler.push(d, 0))).toEqual([]);
    expect(legacyFrame(3).flatMap((d) => assembler.push(d, 0))).toHaveLength(1);
    expect(assembler.counters()).toMatchObject({ framesDroppedForKernelLoss: 1 });
  });

  it("in strict mode drops every frame that starts within a receive buffer's worth of a drop it sees", () => {
    let drops = 0;
    const assembler = createLegacyAssembler({ mode: "strict", kernelDrops: () => drops, bufferDatagrams: 40 });
    // The drop is seen when frame 1 completes: the datagram lost came after the (up to) 40 then queued.
    const first = legacyFrame(1).flatMap((d, i) => {
      if (i === 19) drops += 1;
      return assembler.push(d, 0);
    });
    expect(first).toEqual([]);
    expect(legacyFrame(2).flatMap((d) => assembler.push(d, 0))).toEqual([]);
    expect(legacyFrame(3).flatMap((d) => assembler.push(d, 0))).toEqual([]);
    expect(legacyFrame(4).flatMap((d) => assembler.push(d, 0))).toHaveLength(1);
    expect(assembler.counters()).toMatchObject({ framesDroppedForKernelLoss: 3 });
  });

  it("in seed mode emits as the original server does, without the kernel check", () => {
    let drops = 0;
    const assembler = createLegacyAssembler({ mode: "seed", kernelDrops: () => drops++ });
    expect(legacyFrame(3).flatMap((d) => assembler.push(d, 0))).toHaveLength(1);
  });
});
