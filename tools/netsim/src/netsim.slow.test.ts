// Real UDP sockets on 127.0.0.1: a sender, netsim in-process, a receiver.
import { type Socket, createSocket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { Impairer } from "./impairer.js";
import { type NetsimOptions, startNetsim } from "./netsim.js";
import { NetsimOptionsError } from "./options.js";

const BUFFER_BYTES = 8 * 1024 * 1024;
const sockets: Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

const openSocket = async (): Promise<Socket> => {
  const socket = createSocket({ type: "udp4", recvBufferSize: BUFFER_BYTES, sendBufferSize: BUFFER_BYTES });
  sockets.push(socket);
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return socket;
};

const receiver = async (): Promise<{ port: number; received: Buffer[]; arrivedMs: number[]; socket: Socket }> => {
  const socket = await openSocket();
  const received: Buffer[] = [];
  const arrivedMs: number[] = [];
  socket.on("message", (datagram) => {
    received.push(datagram);
    arrivedMs.push(performance.now());
  });
  return { port: socket.address().port, received, arrivedMs, socket };
};

const waitFor = async (done: () => boolean, what: string, timeoutMs = 5000): Promise<void> => {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

/** Datagram `id`: 1200 bytes, the id in the first 4, then a pattern that depends on it. */
const datagram = (id: number): Buffer => {
  const bytes = Buffer.alloc(1200, id & 0xff);
  bytes.writeUInt32BE(id, 0);
  return bytes;
};

describe("netsim over real sockets", () => {
  it("delivers exactly what the processor decides, in its order, and counts it", async () => {
    const rx = await receiver();
    const options: NetsimOptions = {
      target: { host: "127.0.0.1", port: rx.port },
      seed: 1234,
      loss: 0.05,
      duplicate: 0.1,
      reorder: 0.1,
      reorderMaxMs: 60_000, // released by count or at close only, so timing cannot change the order
      truncate: 0.05,
      garbage: 0.05,
    };
    const netsim = await startNetsim(options);
    const tx = await openSocket();
    const count = 3000;
    for (let id = 0; id < count; id++) {
      tx.send(datagram(id), netsim.port, "127.0.0.1");
      if (id % 200 === 199) await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => netsim.stats().datagramsIn === count, "netsim to receive everything");
    const stats = await netsim.close();
    await waitFor(() => rx.received.length >= stats.datagramsOut, "the receiver to get everything sent");
    await new Promise((resolve) => setTimeout(resolve, 50)); // and nothing more

    // The same decisions, offline.
    const processor = new Impairer(netsim.options);
    const expected: Uint8Array[] = [];
    for (let id = 0; id < count; id++)
      expected.push(...processor.push(datagram(id), 0).map((emission) => emission.datagram));
    expected.push(...processor.flush(0).map((emission) => emission.datagram));

    expect(rx.received.length).toBe(expected.length);
    rx.received.forEach((bytes, at) => expect(Buffer.compare(bytes, expected[at]!), `datagram ${at}`).toBe(0));
    const offline = processor.stats();
    expect(stats).toMatchObject({
      seed: 1234,
      datagramsIn: count,
      bytesIn: count * 1200,
      datagramsOut: rx.received.length,
      bytesOut: rx.received.reduce((sum, bytes) => sum + bytes.length, 0),
      dropped: offline.dropped,
      fragmentsLost: offline.fragmentsLost,
      reordered: offline.reordered,
      duplicated: offline.duplicated,
      truncated: offline.truncated,
      garbageInjected: offline.garbageInjected,
      sendErrors: 0,
      pending: 0,
    });
    for (const key of ["dropped", "reordered", "duplicated", "truncated", "garbageInjected"] as const)
      expect(stats[key], key).toBeGreaterThan(0);
    expect(stats.datagramsIn - stats.dropped + stats.duplicated + stats.garbageInjected).toBe(stats.datagramsOut);
    expect(stats.recvBufferBytes).toBeGreaterThanOrEqual(4 * 1024 * 1024);

    // And the content, read straight off the wire: every well-formed 1200-byte datagram is one sent.
    const whole = rx.received.filter(
      (bytes) => bytes.length === 1200 && bytes.subarray(4).every((byte) => byte === bytes[3]),
    );
    for (const bytes of whole) expect(Buffer.compare(bytes, datagram(bytes.readUInt32BE(0)))).toBe(0);
  });

  it("forwards in order with no impairment, and delays by the asked time", async () => {
    const rx = await receiver();
    const netsim = await startNetsim({ target: { host: "127.0.0.1", port: rx.port }, delayMs: 30 });
    const tx = await openSocket();
    const sentMs: number[] = [];
    for (let id = 0; id < 50; id++) {
      sentMs.push(performance.now());
      tx.send(datagram(id), netsim.port, "127.0.0.1");
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await waitFor(() => rx.received.length === 50, "50 datagrams");
    expect(rx.received.map((bytes) => bytes.readUInt32BE(0))).toEqual(Array.from({ length: 50 }, (_, id) => id));
    rx.arrivedMs.forEach((arrived, id) => {
      expect(arrived - sentMs[id]!).toBeGreaterThanOrEqual(29);
      expect(arrived - sentMs[id]!).toBeLessThan(200);
    });
    const stats = await netsim.close();
    expect(stats).toMatchObject({ datagramsIn: 50, datagramsOut: 50, pending: 0 });
  });

  it("sends what is still delayed when closed, then stops listening", async () => {
    const rx = await receiver();
    const netsim = await startNetsim({ target: { host: "127.0.0.1", port: rx.port }, delayMs: 100 });
    const tx = await openSocket();
    for (let id = 0; id < 10; id++) tx.send(datagram(id), netsim.port, "127.0.0.1");
    await waitFor(() => netsim.stats().datagramsIn === 10, "netsim to receive");
    expect(netsim.stats().pending).toBe(10);
    const stats = await netsim.close();
    expect(stats).toMatchObject({ datagramsOut: 10, pending: 0 });
    await waitFor(() => rx.received.length === 10, "the delayed datagrams");
    expect(await netsim.close()).toEqual(stats);
  });

  it("forwards replies back to the sender", async () => {
    const rx = await receiver();
    rx.socket.on("message", (bytes, from) =>
      rx.socket.send(Buffer.concat([Buffer.from("re:"), bytes]), from.port, from.address),
    );
    const netsim = await startNetsim({ target: { host: "127.0.0.1", port: rx.port } });
    const tx = await openSocket();
    const replies: string[] = [];
    tx.on("message", (bytes) => replies.push(bytes.toString()));
    tx.send(Buffer.from("ping"), netsim.port, "127.0.0.1");
    await waitFor(() => replies.length === 1, "a reply");
    expect(replies).toEqual(["re:ping"]);
    expect(await netsim.close()).toMatchObject({ repliesIn: 1, repliesOut: 1 });
  });

  it("--reverse-loss: loses that share of the replies, seeded, and counts them", async () => {
    const rx = await receiver();
    rx.socket.on("message", (bytes, from) => rx.socket.send(bytes, from.port, from.address));
    const netsim = await startNetsim({ target: { host: "127.0.0.1", port: rx.port }, reverseLoss: 0.5, seed: 7 });
    const tx = await openSocket();
    let replies = 0;
    tx.on("message", () => replies++);
    for (let id = 0; id < 200; id++) tx.send(datagram(id), netsim.port, "127.0.0.1");
    await waitFor(() => netsim.stats().repliesIn === 200, "every reply at netsim");
    const stats = await netsim.close();
    await waitFor(() => replies === stats.repliesOut, "the replies let through");
    expect(stats.repliesDropped + stats.repliesOut).toBe(200);
    expect(stats.repliesDropped).toBeGreaterThan(60);
    expect(stats.repliesDropped).toBeLessThan(140);
    // The forward path is not touched by it.
    expect(stats.dropped).toBe(0);
  });

  it("counts send errors when nothing listens on the target", async () => {
    const closedPort = (await openSocket()).address().port;
    sockets.pop()?.close();
    const netsim = await startNetsim({ target: { host: "127.0.0.1", port: closedPort } });
    const tx = await openSocket();
    for (let id = 0; id < 20; id++) {
      tx.send(datagram(id), netsim.port, "127.0.0.1");
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await waitFor(() => netsim.stats().datagramsIn === 20, "netsim to receive");
    const stats = await netsim.close();
    expect(stats.datagramsOut).toBe(20);
    expect(stats.sendErrors).toBeGreaterThan(0);
  });

  it("rejects bad options by name before opening a socket", async () => {
    await expect(startNetsim({ target: { host: "127.0.0.1", port: 0 }, loss: 2 })).rejects.toThrow(NetsimOptionsError);
    await expect(startNetsim({ target: { host: "127.0.0.1", port: 0 } })).rejects.toThrow(
      "target.port: must be an integer between 1 and 65535, got 0",
    );
  });
});
