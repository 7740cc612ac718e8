/**
 * The live view never slows what matters: twenty viewers that send the WebSocket
 * upgrade and then never read a byte, while the receiver records a 1280x720
 * JPEG stream. Every frame is still recorded intact, a viewer that reads gets
 * the stream, the stuck viewers' skipped frames are counted, and the receiver's
 * memory stays bounded (a queue per stuck viewer would hold 20 x 200 x ~60 kB).
 */
import { get } from "node:http";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import {
  freePort,
  inspectRecording,
  judgeRecording,
  readReceiverStats,
  receiveArgs,
  startSender,
  tempDir,
} from "@udpcam/testkit";
import { useCleanup } from "./harness.js";
import {
  apiStreams,
  eventually,
  patternArgs,
  rssKiB,
  sampleValue,
  scrape,
  startLiveReceiver,
} from "./live-view-harness.js";

const cleanup = useCleanup();
const FRAMES = 200;
const STUCK_VIEWERS = 20;
/** What the receiver may grow by while the viewers are connected. */
const MAX_GROWTH_MIB = 100;

/** A TCP client that asks for the stream's WebSocket and then never reads: its buffers fill and stay full. */
function stuckViewer(base: string, id: string): Socket {
  const url = new URL(base);
  const socket = connect(Number(url.port), url.hostname);
  socket.write(
    `GET /streams/${id}/ws HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  socket.pause();
  return socket;
}

describe("live view under stuck viewers", () => {
  it(`${STUCK_VIEWERS} viewers that never read, while recording: every frame recorded intact, their drops counted, memory bounded`, async () => {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const port = await freePort();
    const output = join(dir.path, "rec.avi");
    const statsFile = join(dir.path, "stats.json");
    const { receiver, base } = await startLiveReceiver(
      receiveArgs(port, { output, fourcc: "MJPG", stats: statsFile, idleExit: 2 }),
    );
    cleanup.kill(receiver);
    const pid = receiver.child.pid ?? 0;
    const sender = startSender(patternArgs(port, "jpeg", FRAMES, ["--width", "1280", "--height", "720"]));
    cleanup.kill(sender);
    const id = await eventually("the stream", async () => (await apiStreams(base))[0]?.id);
    const baselineKiB = rssKiB(pid);

    const stuck = Array.from({ length: STUCK_VIEWERS }, () => stuckViewer(base, id));
    cleanup.add(() => stuck.forEach((socket) => socket.destroy()));
    // One viewer that reads: an MJPEG client counting its parts.
    let partsRead = 0;
    const reader = get(`${base}/streams/${id}.mjpeg`, (response) =>
      response.on(
        "data",
        (chunk: Buffer) => (partsRead += chunk.toString("latin1").split("--udpcamframe\r\n").length - 1),
      ),
    );
    reader.on("error", () => {});
    cleanup.add(() => reader.destroy());

    let peakKiB = baselineKiB;
    const exited = sender.exited;
    while ((await Promise.race([exited.then(() => "done"), sleep(200).then(() => "running")])) === "running")
      peakKiB = Math.max(peakKiB, rssKiB(pid));
    expect(await exited).toBe(0);
    peakKiB = Math.max(peakKiB, rssKiB(pid));
    const metrics = await scrape(base);

    const dropped = metrics.samples.filter(
      (s) =>
        s.name === "udpcam_receiver_viewer_frames_dropped_total" &&
        s.labels["kind"] === "websocket" &&
        s.labels["stream"] === id,
    );
    expect(dropped).toHaveLength(STUCK_VIEWERS);
    // Each stuck viewer's buffers took some frames at first; it skipped (and counted) the rest.
    for (const viewer of dropped) expect(viewer.value, viewer.labels["viewer"]).toBeGreaterThan(FRAMES / 4);
    expect(sampleValue(metrics.samples, "udpcam_receiver_viewers", { stream: id, kind: "websocket" })).toBe(
      STUCK_VIEWERS,
    );
    expect(partsRead).toBeGreaterThan(FRAMES * 0.7);
    expect((peakKiB - baselineKiB) / 1024).toBeLessThan(MAX_GROWTH_MIB);

    expect(await receiver.exited).toBe(0);
    const stats = readReceiverStats(statsFile);
    expect(stats.framesRecorded).toBe(FRAMES);
    expect(stats.sinks["recording"]?.skipped).toBe(0);
    const verdict = judgeRecording(await inspectRecording(output));
    expect(verdict).toEqual({ recorded: FRAMES, intact: FRAMES, torn: 0, repeated: 0, outOfOrder: 0 });
    process.stderr.write(
      `live-view flow: receiver RSS ${(baselineKiB / 1024).toFixed(0)} MiB before the viewers, peak ${(peakKiB / 1024).toFixed(0)} MiB; reading viewer got ${partsRead} of ${FRAMES}; stuck viewers dropped ${dropped.map((d) => d.value).join(", ")}\n`,
    );
  }, 120_000);
});
