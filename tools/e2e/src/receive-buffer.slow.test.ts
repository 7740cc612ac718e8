/**
 * --receive-buffer reaches the receiver's socket: the kernel's own view of it (`ss -m`, which shows the doubled
 * figure Linux keeps) matches what was asked for, the receiver logs what it was granted, and a buffer too small for
 * the original client's unpaced frame is warned about.
 */
import { execFileSync } from "node:child_process";
import { freePort, loopbackReceiveArgs, startReceiver } from "@udpcam/testkit";
import { describe, expect, it } from "vitest";
import { useCleanup } from "./harness.js";

const cleanup = useCleanup();

/** The receive buffer the kernel keeps for the UDP socket bound to `port` (ss's `rb`), in bytes. */
function kernelReceiveBuffer(port: number): number {
  const out = execFileSync("ss", ["-u", "-a", "-m", "-n", "sport", "=", `:${port}`], { encoding: "utf8" });
  const sizes = [...out.matchAll(/\brb(\d+)/g)].map((match) => Number(match[1]));
  expect(sizes, out).toHaveLength(1);
  return sizes[0]!;
}

async function listeningWith(receiveBuffer: number) {
  const port = await freePort();
  const receiver = await startReceiver([
    ...loopbackReceiveArgs(port, { output: "none" }),
    ...["--display", "off", "--receive-buffer", String(receiveBuffer)],
  ]);
  cleanup.kill(receiver);
  return { port, receiver, log: () => receiver.stdout() + receiver.stderr() };
}

describe("--receive-buffer", () => {
  it("sizes the socket's receive buffer (the kernel keeps twice it) and the receiver says what it got", async () => {
    const { port, receiver, log } = await listeningWith(1 << 20);
    expect(kernelReceiveBuffer(port)).toBe(2 << 20);
    expect(log()).toMatch(/"msg":"listening on 127\.0\.0\.1:\d+ [^"]*, receive buffer 1\.0 MiB, /);
    expect(log()).not.toMatch(/"level":"?(40|warn)/);
    receiver.signal("SIGINT");
    expect(await receiver.exited, log()).toBe(0);
  });

  it("warns when the buffer cannot hold the original client's unpaced 900 KiB frame, naming the fix", async () => {
    const { port, receiver, log } = await listeningWith(256 * 1024);
    expect(kernelReceiveBuffer(port)).toBe(512 * 1024);
    expect(log()).toContain("receive buffer 256 KiB: a sender that does not pace");
    expect(log()).toContain("raise --receive-buffer to 921600 or more");
    receiver.signal("SIGINT");
    expect(await receiver.exited, log()).toBe(0);
  });
});
