/**
 * --receive-buffer reaches the receiver's socket: the kernel's own view of it (`ss -m`, which shows the doubled
 * figure Linux keeps) matches what was asked for up to net.core.rmem_max, the receiver logs what it was granted, and
 * a buffer too small for the original client's unpaced frame, or capped below the size asked for, is warned about.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
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

/** The most a socket may ask for, which Linux doubles: net.core.rmem_max (212,992 on a stock kernel). */
function systemCap(): number {
  return Number(readFileSync("/proc/sys/net/core/rmem_max", "utf8").trim());
}

describe("--receive-buffer", () => {
  // 128 KiB is below any kernel's cap: what is asked for is what the socket gets, whatever this machine's sysctl.
  it("sizes the socket's receive buffer (the kernel keeps twice it), says what it got, and warns that an unpaced 900 KiB frame does not fit", async () => {
    const { port, receiver, log } = await listeningWith(128 * 1024);
    expect(kernelReceiveBuffer(port)).toBe(256 * 1024);
    expect(log()).toMatch(/"msg":"listening on 127\.0\.0\.1:\d+ [^"]*, receive buffer 128 KiB, /);
    expect(log()).toContain("receive buffer 128 KiB: a sender that does not pace");
    expect(log()).toContain("raise --receive-buffer to 921600 or more");
    expect(log()).not.toContain("the system granted");
    receiver.signal("SIGINT");
    expect(await receiver.exited, log()).toBe(0);
  });

  it("a size above the system's cap gets the cap, and the warning gives the sysctl that allows the size asked for", async () => {
    const cap = systemCap();
    const asked = cap * 2;
    const { port, receiver, log } = await listeningWith(asked);
    expect(kernelReceiveBuffer(port)).toBe(cap * 2);
    expect(log()).toContain("--receive-buffer: asked for ");
    expect(log()).toContain(`raise the cap with: sysctl -w net.core.rmem_max=${asked}`);
    receiver.signal("SIGINT");
    expect(await receiver.exited, log()).toBe(0);
  });
});
