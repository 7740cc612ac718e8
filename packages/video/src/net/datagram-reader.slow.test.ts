import { createSocket, type Socket } from "node:dgram";
import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Worker } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { openDatagramReader, readDgramSocketNatively, type DatagramReader } from "./datagram-reader.js";

const LOCALHOST = 0x7f000001;
const openFds = (): number => readdirSync("/proc/self/fd").length;
/** Descriptors open once the sockets closed before have let go of theirs (a socket's close takes a loop turn). */
const settledFds = async (): Promise<number> => {
  await new Promise((resolve) => setTimeout(resolve, 20));
  return openFds();
};
const sockets: Socket[] = [];
const readers: DatagramReader[] = [];
afterEach(() => {
  for (const reader of readers.splice(0)) reader.close();
  for (const socket of sockets.splice(0)) socket.close();
});

function bound(): Promise<Socket> {
  const socket = createSocket("udp4");
  sockets.push(socket);
  return new Promise((resolve) => socket.bind(0, "127.0.0.1", () => resolve(socket)));
}

/** Datagram `i` of a test: `bytes` long, each byte from `i` and its offset, so that a mix-up shows. */
function payload(i: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let at = 0; at < bytes; at++) out[at] = (i * 31 + at) & 0xff;
  return out;
}

function sendAll(from: Socket, to: number, datagrams: readonly Uint8Array[]): Promise<void> {
  return Promise.all(
    datagrams.map(
      (d) => new Promise<void>((resolve, reject) => from.send(d, to, "127.0.0.1", (e) => (e ? reject(e) : resolve()))),
    ),
  ).then(() => undefined);
}

interface Got {
  readonly bytes: Uint8Array;
  readonly address: number;
  readonly port: number;
}

/** Copies each datagram out during its batch (the ring is reused after), with its source. */
function collector(): { got: Got[]; batches: number[]; onBatch: (count: number) => void; reader?: DatagramReader } {
  const c = {
    got: [] as Got[],
    batches: [] as number[],
    reader: undefined as DatagramReader | undefined,
    onBatch: (count: number): void => {
      c.batches.push(count);
      for (let i = 0; i < count; i++) {
        const d = c.reader!.datagram(i);
        if (d !== undefined)
          c.got.push({ bytes: d.slice(), address: c.reader!.addresses[i]!, port: c.reader!.ports[i]! });
      }
    },
  };
  return c;
}

async function until(check: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("readDgramSocketNatively", () => {
  it("takes over a bound dgram socket: every datagram once, byte for byte, with its source; no message events", async () => {
    const socket = await bound();
    const sender = await bound();
    let messages = 0;
    socket.on("message", () => messages++);
    const c = collector();
    c.reader = readDgramSocketNatively(socket, c.onBatch);
    readers.push(c.reader);
    const sent = [0, 1, 1472, 65_507, 9000, 3].map((bytes, i) => payload(i, bytes));
    for (const d of sent) await sendAll(sender, socket.address().port, [d]);
    await until(() => c.got.length === sent.length, "6 datagrams");
    expect(c.got.map((g) => g.bytes)).toEqual(sent);
    expect(c.got.every((g) => g.address === LOCALHOST && g.port === sender.address().port)).toBe(true);
    // The socket still sends (NACKs go out this way) and reports its address; Node read nothing.
    expect(socket.address().port).toBeGreaterThan(0);
    expect(messages).toBe(0);
    expect(c.reader.counters()).toMatchObject({ datagrams: 6, truncated: 0, errors: 0 });
  });

  it("a batch larger than the ring: read ring by ring, a few rings per wake-up, in order", async () => {
    const socket = await bound();
    const sender = await bound();
    // Queued in the socket's buffer before the reader starts: the first wake-up finds all 50.
    const sent = Array.from({ length: 50 }, (_, i) => payload(i, 1472));
    await sendAll(sender, socket.address().port, sent);
    const c = collector();
    c.reader = readDgramSocketNatively(socket, c.onBatch, { slots: 4, roundsPerWake: 3 });
    readers.push(c.reader);
    await until(() => c.got.length === 50, "50 datagrams");
    expect(c.got.map((g) => g.bytes)).toEqual(sent);
    expect(c.batches.slice(0, 12)).toEqual(Array(12).fill(4));
    expect(c.batches.reduce((a, b) => a + b)).toBe(50);
    // 3 rounds of 4 per wake-up: at least 5 wake-ups for 50.
    expect(c.reader.counters().wakeups).toBeGreaterThanOrEqual(5);
  });

  it("counts and drops a datagram longer than a slot, and reads on", async () => {
    const socket = await bound();
    const sender = await bound();
    const c = collector();
    c.reader = readDgramSocketNatively(socket, c.onBatch, { slotBytes: 1000 });
    readers.push(c.reader);
    await sendAll(sender, socket.address().port, [payload(1, 1001)]);
    await sendAll(sender, socket.address().port, [payload(2, 1000)]);
    await until(() => c.got.length === 1, "the datagram that fits");
    expect(c.got[0]!.bytes).toEqual(payload(2, 1000));
    expect(c.reader.counters()).toMatchObject({ datagrams: 2, truncated: 1 });
  });

  it("reads on after a socket error (POLLERR: an ICMP port unreachable on a connected socket), counted", async () => {
    const gone = await bound();
    const port = gone.address().port;
    gone.close();
    sockets.splice(sockets.indexOf(gone), 1);
    const socket = await bound();
    await new Promise<void>((resolve) => socket.connect(port, "127.0.0.1", () => resolve()));
    const c = collector();
    c.reader = readDgramSocketNatively(socket, c.onBatch);
    readers.push(c.reader);
    // Nobody listens there: the kernel's ICMP reply leaves ECONNREFUSED pending on the socket.
    await new Promise<void>((resolve) => socket.send(payload(0, 10), () => resolve()));
    await until(() => c.reader!.counters().errors > 0, "the error counted");
    const peer = createSocket("udp4");
    sockets.push(peer);
    await new Promise<void>((resolve) => peer.bind(port, "127.0.0.1", () => resolve()));
    await sendAll(peer, socket.address().port, [payload(1, 100)]);
    await until(() => c.got.length === 1, "the datagram after the error");
    expect(c.got[0]!.bytes).toEqual(payload(1, 100));
  });

  it("closes while datagrams arrive: no crash, no descriptor left open", async () => {
    const before = await settledFds();
    for (let round = 0; round < 10; round++) {
      const socket = await bound();
      const sender = await bound();
      let read = 0;
      const reader = readDgramSocketNatively(socket, (count) => (read += count));
      const flood = sendAll(
        sender,
        socket.address().port,
        Array.from({ length: 200 }, (_, i) => payload(i, 1472)),
      );
      await until(() => read > 0, "a first batch");
      reader.close();
      reader.close();
      socket.close();
      sockets.splice(sockets.indexOf(socket), 1);
      await flood;
      sender.close();
      sockets.splice(sockets.indexOf(sender), 1);
    }
    await until(() => openFds() === before, `${before} descriptors open again (${openFds()})`);
    expect(openFds()).toBe(before);
  });

  it("a reader dropped without close() is closed by its finalizer", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const socket = await bound();
    const before = await settledFds();
    (() => readDgramSocketNatively(socket, () => undefined))();
    expect(openFds()).toBe(before + 1);
    await until(() => {
      gc();
      return openFds() === before;
    }, "the finalizer to close the reader's descriptor");
  });

  it("a worker that ends with a reader open closes it (no abort on open handles)", async () => {
    const addon = createRequire(import.meta.url).resolve("../../build/Release/jpeg_transcode.node");
    const before = await settledFds();
    const script = `
      const dgram = require("node:dgram");
      const { parentPort } = require("node:worker_threads");
      const addon = require(${JSON.stringify(addon)});
      const socket = dgram.createSocket("udp4");
      socket.bind(0, "127.0.0.1", () => {
        const state = Object.getOwnPropertySymbols(socket).find((s) => s.description === "state symbol");
        addon.openDatagramReader(socket[state].handle.fd, 32, 65536, 4, () => {});
        parentPort.postMessage("open");
      });`;
    const worker = new Worker(script, { eval: true });
    const said: string[] = [];
    worker.on("message", (m: string) => said.push(m));
    await until(() => said.includes("open"), "the worker's reader");
    const code = await worker.terminate();
    expect(code).toBe(1);
    await until(() => openFds() === before, `${before} descriptors open again (${openFds()})`);
  });
});

describe("openDatagramReader", () => {
  it.each([
    [-1, 32, 65_536],
    [3, 0, 65_536],
    [3, 32, 65_537],
  ])("refuses fd %s, %s slots of %s bytes", (fd, slots, slotBytes) => {
    expect(() => openDatagramReader(fd, () => undefined, { slots, slotBytes })).toThrow(/^DATAGRAM_READER: /);
  });

  it("refuses a descriptor that is not open", () => {
    expect(() => openDatagramReader(39_999, () => undefined)).toThrow(/DATAGRAM_READER: cannot dup/);
  });
});
