import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { ipv4, SourceCache, startReading } from "./reading.js";

const sockets: Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

async function bound(): Promise<Socket> {
  const socket = createSocket("udp4");
  sockets.push(socket);
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  return socket;
}

describe("startReading", () => {
  it("reads a bound socket natively, and says so", async () => {
    const reading = startReading(await bound(), () => undefined, "native");
    expect(reading.description).toBe("native (recvmmsg, 32 x 64 KiB)");
    expect(reading.reader?.slots).toBe(32);
    reading.reader?.close();
  });

  it("falls back to dgram where the native reader cannot run (a socket with no descriptor yet), and says why", () => {
    const unbound = createSocket("udp4");
    sockets.push(unbound);
    const reading = startReading(unbound, () => undefined, "native");
    expect(reading.reader).toBeUndefined();
    expect(reading.description).toMatch(/^dgram \(the native reader cannot run: DATAGRAM_READER: .+\)$/);
  });

  it("reads with dgram when asked", async () => {
    const reading = startReading(await bound(), () => undefined, "dgram");
    expect(reading).toEqual({ reader: undefined, description: "dgram (asked for)" });
  });
});

describe("SourceCache", () => {
  it.each([
    [0x7f000001, "127.0.0.1"],
    [0xc0a80a02, "192.168.10.2"],
    [0xffffffff, "255.255.255.255"],
    [0, "0.0.0.0"],
  ])("writes %s as %s", (address, text) => {
    expect(ipv4(address)).toBe(text);
  });

  it("hands out one endpoint object per address and port, right for each", () => {
    const cache = new SourceCache();
    const a = cache.get(0x7f000001, 5000);
    const b = cache.get(0x7f000001, 5001);
    const c = cache.get(0x0a000001, 5000);
    expect([a, b, c]).toEqual([
      { address: "127.0.0.1", port: 5000 },
      { address: "127.0.0.1", port: 5001 },
      { address: "10.0.0.1", port: 5000 },
    ]);
    expect(cache.get(0x7f000001, 5000)).toBe(a);
    expect(cache.get(0x7f000001, 5001)).toBe(b);
  });

  it("stays bounded under a flood of sources, and still right", () => {
    const cache = new SourceCache();
    for (let port = 1; port <= 10_000; port++) {
      expect(cache.get(0x0a000002, port).port).toBe(port);
      expect(cache.size).toBeLessThanOrEqual(256);
    }
    expect(cache.get(0x0a000002, 77)).toEqual({ address: "10.0.0.2", port: 77 });
  });
});
