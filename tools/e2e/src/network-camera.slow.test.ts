/**
 * Network cameras as the sender's source, all on loopback: an RTSP camera (GStreamer's RTSP
 * server, restarted mid-stream), an MJPEG-over-HTTP camera (a server in this file, its JPEG
 * bytes passed through to the receiver's recording unchanged) and a URL that never answers.
 * Frames are judged from their pixels (the test pattern's frame numbers) or their bytes.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer as createTcpServer, type AddressInfo, type Socket as TcpSocket } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  REPO_ROOT,
  SYSTEM_PYTHON,
  freePort,
  inspectRecording,
  isIntact,
  loopbackReceiveArgs,
  loopbackTargetArgs,
  readReceiverStats,
  readSenderStats,
  runsOf,
  sourceArgs,
  spawnChild,
  startReceiver,
  startSender,
  tempDir,
  type Child,
} from "@udpcam/testkit";
import { encodeJpeg, openJpegSource, renderPatternFrame } from "@udpcam/video";
import { describe, expect, it } from "vitest";
import { logLines, useCleanup } from "./harness.js";
import { startMjpegHttpCamera } from "./mjpeg-http-camera.js";

const cleanup = useCleanup();
const RTSP_CAMERA = join(REPO_ROOT, "tools/e2e/peers/rtsp_camera.py");

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createTcpServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Test-pattern frames 0..count-1 as JPEG files (libjpeg's standard Huffman tables, as RTP/JPEG needs); their glob. */
function writePatternJpegs(dir: string, count: number): string {
  mkdirSync(dir);
  for (let n = 0; n < count; n++)
    writeFileSync(join(dir, `${String(n).padStart(5, "0")}.jpg`), encodeJpeg(renderPatternFrame(n, 640, 480), 85));
  return join(dir, "*.jpg");
}

async function startRtspCamera(port: number, jpegs: string): Promise<Child> {
  const camera = spawnChild(SYSTEM_PYTHON, [RTSP_CAMERA, "--port", String(port), "--jpegs", jpegs, "--fps", "25"], {
    name: "rtsp-camera",
  });
  cleanup.kill(camera);
  await camera.waitFor(/^ready \d+/m, 15_000);
  return camera;
}

/** Frame numbers step by one within each run. */
function contiguous(run: readonly number[]): boolean {
  return run.every((n, i) => i === 0 || n === (run[i - 1] ?? -2) + 1);
}

describe("network cameras as the source", () => {
  it("RTSP: the camera restarts mid-stream, the sender reconnects once, the receiver records frames from before and after", async () => {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const clip = writePatternJpegs(join(dir.path, "frames"), 250);
    const rtspPort = await freeTcpPort();
    let camera = await startRtspCamera(rtspPort, clip);
    const port = await freePort();
    const output = join(dir.path, "out.avi");
    const receiverStats = join(dir.path, "receiver.json");
    const senderStats = join(dir.path, "sender.json");
    // MJPG stores the JPEG as it comes: FFmpeg's probe hands over a second of frames at once when it opens.
    const receiver = await startReceiver(
      loopbackReceiveArgs(port, { output, fourcc: "MJPG", stats: receiverStats, idleExit: 8 }),
    );
    cleanup.kill(receiver);
    const frames = 120;
    const sender = startSender([
      ...[
        "--source",
        `rtsp://127.0.0.1:${rtspPort}/cam`,
        "--source-timeout",
        "3",
        "--codec",
        "jpeg",
        "--frames",
        String(frames),
      ],
      ...["--host", "127.0.0.1", "--port", String(port), "--stats", senderStats],
    ]);
    cleanup.kill(sender);
    await sender.waitFor(/"msg":"sending to /, 20_000);
    await sleep(2_000);
    camera.signal("SIGTERM");
    expect(await camera.exited).toBe(0);
    await sender.waitFor(/stopped sending: reconnecting/, 10_000);
    await sleep(1_000);
    camera = await startRtspCamera(rtspPort, clip);
    expect(await sender.exited).toBe(0);
    expect(await receiver.exited).toBe(0);

    const logs = logLines(sender.stderr());
    expect(logs.filter((line) => line.msg.includes("stopped sending"))).toHaveLength(1);
    expect(logs.filter((line) => line.msg.includes("is back after"))).toHaveLength(1);
    expect(readSenderStats(senderStats)).toMatchObject({
      framesSent: frames,
      sourceReconnects: 1,
      framesPassedThrough: frames,
    });
    const recorded = await inspectRecording(output);
    const runs = runsOf(recorded.map((f) => f.number));
    const counts = readReceiverStats(receiverStats);
    console.log(
      `RTSP restart: ${recorded.length} frames recorded, runs ${runs.map((r) => `${r[0]}..${r[r.length - 1]}`).join(", ")}; receiver: ${counts.framesComplete} complete, ${counts.framesDropped} dropped, ${counts.framesSkippedBusy} skipped busy`,
    );
    expect(recorded.length).toBe(frames);
    expect(recorded.every(isIntact)).toBe(true);
    // Each session of the camera plays the clip from its first frame: two runs, each whole.
    expect(runs).toHaveLength(2);
    for (const run of runs) {
      expect(run[0]).toBe(0);
      expect(contiguous(run)).toBe(true);
      expect(run.length).toBeGreaterThan(10);
    }
    expect(readReceiverStats(receiverStats).framesDropped).toBe(0);
  }, 120_000);

  it("MJPEG over HTTP: the camera's JPEG bytes reach the recording unchanged (passed through)", async () => {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const served = Array.from({ length: 60 }, (_, n) => encodeJpeg(renderPatternFrame(n, 640, 480), 85));
    const camera = await startMjpegHttpCamera(served, 25);
    cleanup.add(() => void camera.close());
    const port = await freePort();
    const output = join(dir.path, "out.avi");
    const senderStats = join(dir.path, "sender.json");
    const receiver = await startReceiver(loopbackReceiveArgs(port, { output, fourcc: "MJPG", idleExit: 1.5 }));
    cleanup.kill(receiver);
    const frames = 40;
    const sender = startSender([
      ...sourceArgs({ source: camera.url, codec: "jpeg", frames }),
      ...loopbackTargetArgs(port),
      ...["--stats", senderStats],
    ]);
    cleanup.kill(sender);
    expect(await sender.exited).toBe(0);
    expect(await receiver.exited).toBe(0);
    await camera.close();
    expect(readSenderStats(senderStats)).toMatchObject({ framesSent: frames, framesPassedThrough: frames });

    const recording = await openJpegSource({ kind: "file", path: output }, { pace: "asap" });
    if (recording === undefined) throw new Error("the MJPG recording gives no JPEG packets");
    const recorded: Uint8Array[] = [];
    for await (const frame of recording) recorded.push(frame.jpeg);
    const first = served.findIndex((jpeg) => Buffer.from(jpeg).equals(Buffer.from(recorded[0] ?? [])));
    console.log(`MJPEG over HTTP: ${recorded.length} frames recorded, the first is served frame ${first}`);
    expect(recorded).toHaveLength(frames);
    expect(first).toBeGreaterThanOrEqual(0);
    for (const [i, jpeg] of recorded.entries())
      expect(Buffer.from(jpeg).equals(Buffer.from(served[(first + i) % served.length] ?? []))).toBe(true);
  }, 60_000);

  it("a URL that never answers: one error line naming it (without its password) within the timeout, exit 2", async () => {
    // Accepts connections and never says a word, as a camera that hangs does.
    const held: TcpSocket[] = [];
    const silent = createTcpServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    cleanup.add(() => {
      for (const socket of held) socket.destroy();
      silent.close();
    });
    const { port } = silent.address() as AddressInfo;
    for (const scheme of ["rtsp", "http"]) {
      const startedAt = performance.now();
      const sender = startSender(
        [
          "--source",
          `${scheme}://admin:hunter22@127.0.0.1:${port}/cam`,
          "--source-timeout",
          "2",
          "--codec",
          "jpeg",
          "--port",
          String(await freePort()),
        ],
        { timeoutMs: 20_000 },
      );
      cleanup.kill(sender);
      expect(await sender.exited).toBe(2);
      const seconds = (performance.now() - startedAt) / 1000;
      const output = sender.stderr() + sender.stdout();
      console.log(`${scheme} that never answers: exit 2 after ${seconds.toFixed(1)} s`);
      expect(output).toContain(`--source: cannot open ${scheme}://***@127.0.0.1:${port}/cam`);
      expect(output).not.toContain("hunter22");
      expect(seconds).toBeLessThan(8);
    }
  }, 60_000);
});
