/**
 * Flat out (`--fps 1000`), the sender must hand each frame's datagrams to the
 * kernel as it goes. libuv queues every send after the first one that could not
 * complete at once until the event loop polls the socket: a sender that never
 * lets it piles its whole run up in memory and lets it out in one burst that no
 * receive buffer holds (measured before the fix: 800 MB resident, 2,282 to
 * 7,561 of 9,000 datagrams reaching a bare counting socket).
 */
import { createSocket } from "node:dgram";
import { HEADER_BYTES, LEGACY_FRAME_BYTES, MAX_DATAGRAM_BYTES, chunkCount } from "@udpcam/protocol";
import { startSender } from "@udpcam/testkit";
import { describe, expect, it } from "vitest";
import { peakRssKiB, useCleanup } from "./harness.js";

const cleanup = useCleanup();
const FRAMES = 600;
/** A 640x480 raw frame in loopback-sized datagrams, no FEC on loopback: 15. */
const DATAGRAMS_PER_FRAME = chunkCount(LEGACY_FRAME_BYTES, MAX_DATAGRAM_BYTES - HEADER_BYTES);

describe("sender, flat out", () => {
  it("sends as it goes: a bare counting socket gets (nearly) every datagram, and the sender stays small", async () => {
    const counter = createSocket({ type: "udp4", recvBufferSize: 8 << 20 });
    let received = 0;
    counter.on("message", () => received++);
    await new Promise<void>((done) => counter.bind(0, "127.0.0.1", done));
    cleanup.add(() => counter.close());

    const sender = startSender([
      "--source",
      "test",
      "--fps",
      "1000",
      "--frames",
      String(FRAMES),
      "--codec",
      "raw",
      "--host",
      "127.0.0.1",
      "--port",
      String(counter.address().port),
    ]);
    cleanup.kill(sender);
    let peakKiB = 0;
    const sampler = setInterval(() => {
      try {
        peakKiB = Math.max(peakKiB, peakRssKiB(sender.child.pid ?? 0));
      } catch {
        // exited between samples
      }
    }, 50);
    const code = await sender.exited;
    clearInterval(sampler);
    await new Promise((done) => setTimeout(done, 200));

    expect(code, sender.stderr()).toBe(0);
    // The counter shares this test's process and a busy CPU and may miss a few (96.2% in one fresh-clone run); the
    // burst lost a sixth (84%) to three quarters: 92% tells them apart.
    expect(received).toBeGreaterThanOrEqual(0.92 * FRAMES * DATAGRAMS_PER_FRAME);
    // 600 raw frames are 553 MB: holding them all is the failure; Node with OpenCV runs in about 200 MB.
    expect(peakKiB / 1024).toBeLessThan(400);
  }, 60_000);
});

describe("sender, paced raw", () => {
  it("a receiver with the system's default 208 KiB buffer gets (nearly) every datagram of every raw frame at 25 fps", async () => {
    // 106,496 asked is 212,992 granted (the kernel doubles it): the default rmem, three 65,507-byte datagrams.
    // A raw 640x480 frame is 900 KB; sent at once, all but three of its fifteen datagrams would be lost.
    const counter = createSocket({ type: "udp4", recvBufferSize: 106_496 });
    const bytes: number[] = [];
    counter.on("message", (datagram) => bytes.push(datagram.length));
    await new Promise<void>((done) => counter.bind(0, "127.0.0.1", done));
    cleanup.add(() => counter.close());
    expect(counter.getRecvBufferSize()).toBeLessThanOrEqual(212_992);

    const frames = 50;
    const sender = startSender([
      ...["--source", "test", "--fps", "25", "--frames", String(frames), "--codec", "raw"],
      ...["--host", "127.0.0.1", "--port", String(counter.address().port)],
    ]);
    cleanup.kill(sender);
    expect(await sender.exited, sender.stderr()).toBe(0);
    await new Promise((done) => setTimeout(done, 200));

    // The buffer holds one burst and one datagram more: this process (which shares two cores with the sender and
    // other tests' work) loses a datagram whenever it is held up for over ~4 ms, as a real receiver would (hand runs
    // of the receiver at this buffer: 249-250 of 250 frames). A sender bursting each frame gets 518 of 750 here.
    const full = MAX_DATAGRAM_BYTES;
    const last = LEGACY_FRAME_BYTES - (DATAGRAMS_PER_FRAME - 1) * (full - HEADER_BYTES) + HEADER_BYTES;
    expect(bytes.length).toBeGreaterThanOrEqual(Math.ceil(0.99 * frames * DATAGRAMS_PER_FRAME));
    expect(bytes.filter((n) => n !== full && n !== last)).toEqual([]);
  }, 60_000);
});
