/**
 * What the sender puts on the wire, captured on a real loopback socket, against `packetizeFrame`'s datagrams for
 * the same frame: byte for byte, whether the sender sends a datagram whole or as header + payload view (a gather
 * sendmsg), for raw and JPEG frames, FEC per frame and across frames, HMAC tags and AEAD.
 */
import { createSocket, type Socket } from "node:dgram";
import { Writable } from "node:stream";
import { configTester } from "@udpcam/appkit/testing";
import { createLogger, StatusLine } from "@udpcam/appkit";
import {
  decodeDatagram,
  HEADER_BYTES,
  looksLikeRepair,
  packetizeFrame,
  SALT_BYTES,
  type PacketizeOptions,
  type PayloadCipher,
} from "@udpcam/protocol";
import { createKeyring, keyMaterial } from "@udpcam/protocol/node";
import { encodeJpeg, renderPatternFrame } from "@udpcam/video";
import { describe, expect, it } from "vitest";
import { startSender } from "./app.js";
import { parseSenderConfig } from "./config.js";

const { config } = configTester(parseSenderConfig, "/");
const KEY = "wire-test-key-0b5e9d2c41";
const FRAMES = 3;
const QUALITY = 80;

async function capture(): Promise<{ socket: Socket; port: number; datagrams: Buffer[] }> {
  const socket = createSocket("udp4");
  const datagrams: Buffer[] = [];
  socket.on("message", (bytes) => datagrams.push(bytes));
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  // A raw frame in 1,472-byte datagrams is ~700 of them: room for more than one frame at once.
  socket.setRecvBufferSize(4 << 20);
  return { socket, port: socket.address().port, datagrams };
}

/** Runs the sender in this process to the end of its frames; the datagrams the capture socket got. */
async function sendPattern(args: readonly string[]): Promise<Buffer[]> {
  const { socket, port, datagrams } = await capture();
  const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
  const app = await startSender(
    config([
      ...["--source", "test", "--frames", String(FRAMES), "--fps", "50", "--quality", String(QUALITY)],
      ...["--host", "127.0.0.1", "--port", String(port), "--log-level", "silent"],
      ...args,
    ]),
    {
      logger: createLogger({ name: "sender", level: "silent", format: "json", colors: false }),
      stdout: quiet,
      status: new StatusLine(quiet),
    },
  );
  await app.done;
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.close();
  return datagrams;
}

/** What the sender sends for pattern frame n: the frame's pixels, or their JPEG at --quality. */
function payloadOf(n: number, codec: "raw" | "jpeg"): Uint8Array {
  const frame = renderPatternFrame(n, 640, 480);
  return codec === "raw" ? frame.bytes : encodeJpeg(frame, QUALITY);
}

/** The datagrams `packetizeFrame` makes for the frame that the captured `first` datagram starts. */
function expected(first: Buffer, codec: "raw" | "jpeg", options: PacketizeOptions): Uint8Array[] {
  const header = decodeDatagram(first);
  return packetizeFrame(
    {
      streamId: header.streamId,
      frameNumber: header.frameNumber,
      codec: codec === "raw" ? "raw-bgr24" : "jpeg",
      width: 640,
      height: 480,
      fps: 50,
      timestampMs: header.timestampMs,
      payload: payloadOf(header.frameNumber, codec),
    },
    { ...options, ...(header.windowSequence === undefined ? {} : { windowSequence: header.windowSequence }) },
  );
}

const keys = createKeyring([keyMaterial({ kind: "key", secret: KEY })]);
/** The sender's cipher with the salt it drew at random for the frame (read from its first datagram). */
const cipherWithSaltOf = (first: Buffer): PayloadCipher => ({
  tagBytes: keys.cipher.tagBytes,
  saltFor: () => first.subarray(HEADER_BYTES, HEADER_BYTES + SALT_BYTES),
  seal: (...args) => keys.cipher.seal(...args),
  open: (...args) => keys.cipher.open(...args),
  signRepair: (...args) => keys.cipher.signRepair(...args),
  verifyRepair: (...args) => keys.cipher.verifyRepair(...args),
});

describe("the sender's datagrams on the wire", () => {
  const cases: {
    name: string;
    codec: "raw" | "jpeg";
    args: string[];
    options: (first: Buffer) => PacketizeOptions;
  }[] = [
    {
      name: "raw, 65,507-byte datagrams, no FEC",
      codec: "raw",
      args: ["--datagram-size", "65507"],
      options: () => ({ maxDatagramBytes: 65_507, fecOverhead: 0 }),
    },
    {
      name: "raw, 1,472-byte datagrams, FEC 10% per frame",
      codec: "raw",
      args: ["--datagram-size", "1472", "--fec", "0.1", "--fec-scheme", "frame"],
      options: () => ({ maxDatagramBytes: 1472, fecOverhead: 0.1 }),
    },
    {
      name: "JPEG, 65,507-byte datagrams",
      codec: "jpeg",
      args: ["--datagram-size", "65507"],
      options: () => ({ maxDatagramBytes: 65_507, fecOverhead: 0 }),
    },
    {
      name: "raw, 8,972-byte datagrams, FEC 10% per frame (header + payload view, parity)",
      codec: "raw",
      args: ["--datagram-size", "8972", "--fec", "0.1", "--fec-scheme", "frame"],
      options: () => ({ maxDatagramBytes: 8972, fecOverhead: 0.1 }),
    },
    {
      name: "JPEG, 4,096-byte datagrams, FEC 25% per frame (header + payload view, parity)",
      codec: "jpeg",
      args: ["--datagram-size", "4096", "--fec", "0.25", "--fec-scheme", "frame"],
      options: () => ({ maxDatagramBytes: 4096, fecOverhead: 0.25 }),
    },
    {
      name: "JPEG, 1,000-byte datagrams, FEC 25% per frame",
      codec: "jpeg",
      args: ["--datagram-size", "1000", "--fec", "0.25", "--fec-scheme", "frame"],
      options: () => ({ maxDatagramBytes: 1000, fecOverhead: 0.25 }),
    },
    {
      name: "JPEG, window FEC (the sources; repairs are the window's)",
      codec: "jpeg",
      args: ["--datagram-size", "1472", "--fec", "0.12", "--fec-scheme", "window"],
      options: () => ({ maxDatagramBytes: 1472, fecOverhead: 0 }),
    },
    {
      name: "raw, HMAC tags",
      codec: "raw",
      args: ["--datagram-size", "65507", "--key", KEY, "--encrypt", "off"],
      options: () => ({ maxDatagramBytes: 65_507, fecOverhead: 0, authenticator: keys.authenticator }),
    },
    {
      name: "JPEG, AEAD with FEC per frame",
      codec: "jpeg",
      args: ["--datagram-size", "1472", "--key", KEY, "--fec", "0.1", "--fec-scheme", "frame"],
      options: (first) => ({ maxDatagramBytes: 1472, fecOverhead: 0.1, cipher: cipherWithSaltOf(first) }),
    },
  ];

  it.each(cases)("$name: packetizeFrame's bytes, every datagram of every frame", async ({ codec, args, options }) => {
    const wire = await sendPattern(["--codec", codec, ...args]);
    const sources = wire.filter((datagram) => !looksLikeRepair(datagram));
    const frames = new Map<number, Buffer[]>();
    for (const datagram of sources) {
      const n = decodeDatagram(datagram).frameNumber;
      frames.set(n, [...(frames.get(n) ?? []), datagram]);
    }
    expect([...frames.keys()]).toEqual([...Array(FRAMES).keys()]);
    for (const datagrams of frames.values()) {
      const want = expected(datagrams[0]!, codec, options(datagrams[0]!));
      expect(datagrams.length).toBe(want.length);
      datagrams.forEach((datagram, i) => {
        expect(Buffer.compare(datagram, want[i]!), `frame ${decodeDatagram(datagram).frameNumber} datagram ${i}`).toBe(
          0,
        );
      });
    }
  });
});
