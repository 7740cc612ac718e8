/**
 * The ingest thread over real sockets on 127.0.0.1: frames out equal frames in, byte for byte, read by the native
 * batch reader (and by dgram, the fallback), whatever the datagram size, with FEC repairing a loss and with HMAC;
 * bad datagrams counted and dropped. The thread runs from the build (a worker runs JavaScript): `pnpm build` first.
 */
import { createSocket, type Socket } from "node:dgram";
import { Codec, packetizeFrame, type FrameToSend, type PacketizeOptions } from "@udpcam/protocol";
import { createKeyring } from "@udpcam/protocol/node";
import { afterEach, describe, expect, it } from "vitest";
import { FrameMemory } from "@udpcam/video";
import type { IngestedFrame, IngestSettings } from "./messages.js";
import type * as IngestModule from "./ingest.js";

const { startIngest } = (await import(
  new URL("../../dist/ingest/ingest.js", import.meta.url).href
)) as typeof IngestModule;

const KEY = new Uint8Array(32).map((_, i) => i * 7 + 1);
const SETTINGS: IngestSettings = {
  host: "127.0.0.1",
  port: 0,
  multicastInterface: undefined,
  sourceAddress: undefined,
  protocol: "v1",
  legacyMode: "strict",
  key: undefined,
  encrypt: false,
  maxFrameBytes: 16 * 1024 * 1024,
  frameTimeout: 2000,
  latency: 100,
  nack: false,
  receiveBufferBytes: 4 * 1024 * 1024,
  maxStreams: 8,
  maxStreamsPerSource: 8,
  notBeforeMs: undefined,
  idleMs: undefined,
};

const cleanups: (() => Promise<unknown> | void)[] = [];
const failures: Error[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
  const failed = failures.splice(0);
  if (failed.length > 0) throw new Error(`the ingest failed: ${failed.map((e) => e.message).join("; ")}`);
});

async function sender(): Promise<Socket> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  cleanups.push(() => void socket.close());
  return socket;
}

/** Sends in runs of 64, each run taken by the kernel before the next (a frame stays within the receive buffer). */
async function send(socket: Socket, port: number, datagrams: readonly Uint8Array[]): Promise<void> {
  for (let at = 0; at < datagrams.length; at += 64) {
    await Promise.all(
      datagrams
        .slice(at, at + 64)
        .map(
          (d) =>
            new Promise<void>((resolve, reject) =>
              socket.send(d, port, "127.0.0.1", (error) => (error ? reject(error) : resolve())),
            ),
        ),
    );
  }
}

async function started(overrides: Partial<IngestSettings> = {}, frameMemory?: FrameMemory) {
  const frames: IngestedFrame[] = [];
  const ingest = await startIngest(
    { ...SETTINGS, ...overrides },
    { onFrame: (f) => frames.push(f), onCounters: () => undefined, onFailure: (e) => failures.push(e) },
    frameMemory,
  );
  let closed = false;
  cleanups.push(async () => {
    if (!closed) await ingest.close();
  });
  const close = async () => {
    closed = true;
    return ingest.close();
  };
  return { ingest, frames, close };
}

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A raw 640x480 frame, or a JPEG-sized one (SOI ... EOI), different per frame number. */
function frame(n: number, codec: Codec): FrameToSend {
  const bytes = codec === Codec.RawBgr24 ? 640 * 480 * 3 : 41_000 + n;
  const payload = new Uint8Array(bytes);
  let x = n * 2654435761;
  for (let i = 0; i < bytes; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    payload[i] = x >>> 24;
  }
  if (codec === Codec.Jpeg) {
    payload.set([0xff, 0xd8], 0);
    payload.set([0xff, 0xd9], bytes - 2);
  }
  return { streamId: 77, frameNumber: n, codec, width: 640, height: 480, fps: 25, timestampMs: Date.now(), payload };
}

interface Case {
  readonly name: string;
  readonly codec: Codec;
  readonly maxDatagramBytes: number;
  readonly fecOverhead: number;
  readonly key?: boolean;
  /** Datagram indices of each frame not sent (FEC rebuilds them). */
  readonly lose?: readonly number[];
  readonly reader?: "dgram";
}

const CASES: readonly Case[] = [
  { name: "raw, 65,507 B datagrams", codec: Codec.RawBgr24, maxDatagramBytes: 65_507, fecOverhead: 0 },
  { name: "raw, 1,472 B datagrams", codec: Codec.RawBgr24, maxDatagramBytes: 1472, fecOverhead: 0 },
  { name: "JPEG, 65,507 B datagrams", codec: Codec.Jpeg, maxDatagramBytes: 65_507, fecOverhead: 0 },
  { name: "JPEG, 1,472 B datagrams", codec: Codec.Jpeg, maxDatagramBytes: 1472, fecOverhead: 0 },
  {
    name: "raw, 1,472 B, FEC rebuilding 2 lost",
    codec: Codec.RawBgr24,
    maxDatagramBytes: 1472,
    fecOverhead: 0.1,
    lose: [3, 100],
  },
  {
    name: "raw, 65,507 B, FEC rebuilding 1 lost",
    codec: Codec.RawBgr24,
    maxDatagramBytes: 65_507,
    fecOverhead: 0.2,
    lose: [5],
  },
  { name: "JPEG, 1,472 B, HMAC", codec: Codec.Jpeg, maxDatagramBytes: 1472, fecOverhead: 0.1, key: true },
  { name: "raw, 65,507 B, HMAC", codec: Codec.RawBgr24, maxDatagramBytes: 65_507, fecOverhead: 0, key: true },
  {
    name: "raw, 1,472 B, read by dgram",
    codec: Codec.RawBgr24,
    maxDatagramBytes: 1472,
    fecOverhead: 0.1,
    lose: [7],
    reader: "dgram",
  },
];

describe.each(CASES)("the ingest, $name", (c) => {
  it("delivers every frame byte for byte", async () => {
    const { ingest, frames } = await started({
      ...(c.key === true ? { key: KEY } : {}),
      ...(c.reader === undefined ? {} : { reader: c.reader }),
    });
    expect(ingest.reader).toMatch(c.reader === "dgram" ? /^dgram \(asked for\)/ : /^native \(recvmmsg, 32 x 64 KiB\)$/);
    const options: PacketizeOptions = {
      maxDatagramBytes: c.maxDatagramBytes,
      fecOverhead: c.fecOverhead,
      ...(c.key === true ? { authenticator: createKeyring([KEY]).authenticator } : {}),
    };
    const socket = await sender();
    const sent = [1, 2, 3].map((n) => frame(n, c.codec));
    for (const [i, f] of sent.entries()) {
      const datagrams = packetizeFrame(f, options).filter((_, index) => !(c.lose ?? []).includes(index));
      await send(socket, ingest.port, datagrams);
      await until(() => frames.length === i + 1, `frame ${f.frameNumber}`);
    }
    expect(frames.map((f) => f.frame.frameNumber)).toEqual([1, 2, 3]);
    for (const [i, f] of frames.entries()) {
      expect(f.frame.codec).toBe(c.codec);
      expect(f.frame.recovered).toBe(c.lose !== undefined);
      expect(Buffer.from(f.frame.payload).equals(Buffer.from(sent[i]!.payload))).toBe(true);
    }
  });
});

describe("the ingest with the native reader", () => {
  it("counts and drops bad datagrams (garbage, a forged tag, truncated), and delivers the good frame after them", async () => {
    const { ingest, frames, close } = await started({ key: KEY });
    const socket = await sender();
    const good = packetizeFrame(frame(9, Codec.Jpeg), { authenticator: createKeyring([KEY]).authenticator });
    const forged = packetizeFrame(frame(9, Codec.Jpeg), {
      authenticator: createKeyring([KEY.map((b) => b ^ 1)]).authenticator,
    });
    const garbage = [
      new Uint8Array(0),
      new Uint8Array(3).fill(0xee),
      new Uint8Array(1400).fill(0x55),
      good[0]!.slice(0, 20),
    ];
    await send(socket, ingest.port, [...garbage, ...forged, ...good]);
    await until(() => frames.length === 1, "the good frame");
    expect(Buffer.from(frames[0]!.frame.payload).equals(Buffer.from(frame(9, Codec.Jpeg).payload))).toBe(true);
    const counters = await close();
    expect(counters.datagramsReceived).toBe(garbage.length + forged.length + good.length);
    const p = counters.protocol;
    if (p.format !== "v1") throw new Error("v1 counters expected");
    expect(p.datagramsMalformed).toBe(garbage.length);
    expect(p.datagramsUnauthenticated).toBe(forged.length);
    expect(counters.datagramsTruncated).toBe(0);
    expect(counters.receiveErrors).toBe(0);
  });

  it("answers each source at its own address and port: a NACK goes to the sender that lost a datagram", async () => {
    const { ingest, frames } = await started({ nack: true, latency: 50 });
    const a = await sender();
    const b = await sender();
    const heard = { a: 0, b: 0 };
    a.on("message", () => heard.a++);
    b.on("message", () => heard.b++);
    await send(a, ingest.port, packetizeFrame(frame(1, Codec.Jpeg), { fecOverhead: 0 }));
    const other = { ...frame(1, Codec.Jpeg), streamId: 78 };
    await send(
      b,
      ingest.port,
      packetizeFrame(other, { fecOverhead: 0 }).filter((_, i) => i !== 4),
    );
    // Both awaited: under load the first sender's frame may reach this thread after the NACK does.
    await until(
      () => heard.b > 0 && frames.some((f) => f.frame.streamId === 77),
      "a NACK at the second sender and the first sender's frame",
    );
    expect(heard.a).toBe(0);
  });

  it("closes while datagrams arrive: final counters, no crash", async () => {
    const { ingest, close } = await started();
    const socket = await sender();
    const datagrams = [1, 2, 3, 4].flatMap((n) => packetizeFrame(frame(n, Codec.RawBgr24)));
    const flood = send(socket, ingest.port, datagrams);
    await new Promise((resolve) => setTimeout(resolve, 3));
    const counters = await close();
    await flood;
    expect(counters.datagramsReceived).toBeLessThanOrEqual(datagrams.length);
  });
});

describe("the ingest with a frame memory", () => {
  it("completes raw frames in the memory's slots, byte for byte, and reuses each slot once handed back", async () => {
    const memory = FrameMemory.create();
    if (memory === undefined) throw new Error("no memfd on this machine: the frame memory cannot be tested");
    cleanups.push(() => memory.close());
    // Reserved first, as the recorder does at its first raw frame: the ingest hears of it before any datagram.
    const layout = memory.reserve(640 * 480 * 3)!;
    const { ingest, frames } = await started({}, memory);
    const socket = await sender();
    // More frames than slots: they only fit because each slot comes back.
    const count = layout.count + 10;
    for (let n = 0; n < count; n++) {
      const sent = frame(n, Codec.RawBgr24);
      await send(socket, ingest.port, packetizeFrame(sent, { maxDatagramBytes: 65_507, fecOverhead: 0 }));
      await until(() => frames.length === n + 1, `raw frame ${n}`);
      const { payload } = frames[n]!.frame;
      expect(memory.slotOf(payload), `raw frame ${n} in the frame memory`).toBeDefined();
      expect(Buffer.compare(payload, sent.payload), `raw frame ${n}'s bytes`).toBe(0);
      ingest.recycle(payload);
    }
    // A JPEG frame is far smaller than a slot: ordinary memory, its bytes intact all the same.
    const jpeg = frame(count, Codec.Jpeg);
    await send(socket, ingest.port, packetizeFrame(jpeg, { maxDatagramBytes: 65_507, fecOverhead: 0 }));
    await until(() => frames.length === count + 1, "the JPEG frame");
    const { payload } = frames[count]!.frame;
    expect(memory.slotOf(payload)).toBeUndefined();
    expect(Buffer.compare(payload, jpeg.payload)).toBe(0);
  });
});
