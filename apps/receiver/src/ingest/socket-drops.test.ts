import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { describe, expect, it } from "vitest";
import { kernelDrops } from "./socket-drops.js";

// A socket that never reads (Node's dgram always reads once bound): the kernel drops
// what does not fit in its small buffer.
const NEVER_READS = `
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
time.sleep(10)
`;

describe("kernelDrops", () => {
  it("counts the datagrams a full receive buffer dropped, for that socket only", async () => {
    const python = spawn("python3", ["-c", NEVER_READS], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const port = await new Promise<number>((resolve) =>
        python.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
      );
      expect(kernelDrops(port)).toBe(0);
      const sender = createSocket("udp4");
      const payload = new Uint8Array(1000);
      for (let i = 0; i < 200; i++)
        await new Promise<void>((resolve) => sender.send(payload, port, "127.0.0.1", () => resolve()));
      sender.close();
      expect(kernelDrops(port)).toBeGreaterThan(100);
      expect(kernelDrops(1)).toBeUndefined();
    } finally {
      python.kill();
    }
  });
});
