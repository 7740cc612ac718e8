/**
 * The live view's other endpoints with the real apps: /metrics parsed as
 * Prometheus text and agreeing with --stats, /streams/ID.mjpeg read by ffmpeg
 * (frames whose pixels match the source), and the bind and token rules.
 */
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createFrame, decodeJpeg } from "@udpcam/video";
import { describe, expect, it } from "vitest";
import {
  RECEIVER_MAIN,
  freePort,
  inspectFrame,
  isIntact,
  isStrictlyIncreasing,
  loopbackReceiveArgs,
  readReceiverStats,
  receiveArgs,
  receiverArgv,
  spawnChild,
  startReceiver,
  startSender,
  tempDir,
  v1Counters,
} from "@udpcam/testkit";
import { useCleanup } from "./harness.js";
import {
  apiStreams,
  patternArgs,
  eventually,
  parsePrometheus,
  sampleValue,
  scrape,
  startLiveReceiver,
} from "./live-view-harness.js";

const cleanup = useCleanup();
const KEY = "live-view-test-key-0123456789";

describe("live view: /metrics", () => {
  it("parses as Prometheus text, and its counters agree with --stats at the end of a run (refusals by reason included)", async () => {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const port = await freePort();
    const statsFile = join(dir.path, "stats.json");
    const { receiver, base } = await startLiveReceiver([
      ...receiveArgs(port, { output: join(dir.path, "rec.avi"), fourcc: "MJPG", stats: statsFile, idleExit: 2 }),
      ...["--key", KEY],
    ]);
    cleanup.kill(receiver);
    // Refused datagrams: garbage (malformed) and a sender with the wrong key (unauthenticated).
    const garbage = createSocket("udp4");
    cleanup.add(() => garbage.close());
    for (let i = 0; i < 5; i++) garbage.send(Buffer.from(`not a datagram ${i}`), port, "127.0.0.1");
    const forger = startSender(patternArgs(port, "jpeg", 5, ["--key", "a-different-key-0123456789"]));
    cleanup.kill(forger);
    expect(await forger.exited).toBe(0);
    const sender = startSender(patternArgs(port, "jpeg", 100, ["--key", KEY]));
    cleanup.kill(sender);
    expect(await sender.exited).toBe(0);
    // Ingest reports its counters every 100 ms; the receiver stops after 2 s of silence.
    await sleep(400);
    const { samples, types } = await scrape(base);
    expect(await receiver.exited).toBe(0);
    const stats = readReceiverStats(statsFile);
    const v1 = v1Counters(stats);

    for (const [name, type] of types) {
      expect(name, "the scheme").toMatch(/^udpcam_receiver_[a-z_]+$/);
      if (type === "counter") expect(name).toMatch(/_total$/);
    }
    const value = (name: string, labels?: Record<string, string>) =>
      sampleValue(samples, `udpcam_receiver_${name}`, labels);
    expect({
      datagrams: value("datagrams_received_total"),
      bytes: value("received_bytes_total"),
      complete: value("frames_complete_total"),
      recovered: value("frames_recovered_total"),
      dropped: value("frames_dropped_total"),
      late: value("frames_late_total"),
      delivered: value("frames_delivered_total"),
      recorded: value("frames_recorded_total"),
      malformed: value("datagrams_refused_total", { reason: "malformed" }),
      unauthenticated: value("datagrams_refused_total", { reason: "unauthenticated" }),
      duplicate: value("datagrams_refused_total", { reason: "duplicate" }),
      streams: value("streams_seen_total"),
    }).toEqual({
      datagrams: stats.datagramsReceived,
      bytes: stats.bytesReceived,
      complete: stats.framesComplete,
      recovered: stats.framesRecovered,
      dropped: stats.framesDropped,
      late: stats.framesLate,
      delivered: stats.framesDelivered,
      recorded: stats.framesRecorded,
      malformed: v1.datagramsMalformed,
      unauthenticated: v1.datagramsUnauthenticated,
      duplicate: v1.datagramsDuplicate,
      streams: stats.streamsSeen,
    });
    expect(stats.framesRecorded).toBe(100);
    expect(v1.datagramsMalformed).toBe(5);
    expect(v1.datagramsUnauthenticated).toBeGreaterThan(0);
    // One latency sample per frame taken, in the histogram of capture to complete.
    expect(types.get("udpcam_receiver_frame_latency_seconds")).toBe("histogram");
    expect(value("frame_latency_seconds_count")).toBe(stats.framesDelivered);
    expect(value("frame_latency_seconds_bucket", { le: "+Inf" })).toBe(stats.framesDelivered);
    expect(value("ingest_up")).toBe(1);
  }, 120_000);

  it("rejects text that is not Prometheus' (the parser the test trusts)", () => {
    expect(() => parsePrometheus("# TYPE a counter\na 1\n")).not.toThrow();
    expect(() => parsePrometheus("a 1\n")).toThrow(/no TYPE/);
    expect(() => parsePrometheus("# TYPE a counter\na one\n")).toThrow(/not Prometheus text/);
  });
});

describe("live view: /streams/ID.mjpeg", () => {
  it.each(["jpeg", "raw"] as const)(
    "ffmpeg -i http://... reads a %s stream as frames whose pixels match the source",
    async (codec) => {
      const port = await freePort();
      const { receiver, base } = await startLiveReceiver([
        ...receiveArgs(port, { output: "none" }),
        ...["--http-quality", "90"],
      ]);
      cleanup.kill(receiver);
      const sender = startSender(patternArgs(port, codec, 750));
      cleanup.kill(sender);
      const id = await eventually("the stream", async () => (await apiStreams(base))[0]?.id);
      // The newest frame alone (a raw stream nobody watches is encoded for this request).
      const snapshot = await fetch(`${base}/streams/${id}.jpg`);
      expect(snapshot.headers.get("content-type")).toBe("image/jpeg");
      expect(isIntact(inspectFrame(decodeJpeg(new Uint8Array(await snapshot.arrayBuffer()))))).toBe(true);
      const FRAMES = 10;
      const { width, height } = { width: 640, height: 480 };
      const ffmpeg = spawn(
        "ffmpeg",
        [
          "-hide_banner",
          "-loglevel",
          "error",
          "-i",
          `${base}/streams/${id}.mjpeg`,
          "-frames:v",
          String(FRAMES),
          "-f",
          "rawvideo",
          "-pix_fmt",
          "bgr24",
          "-",
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      cleanup.add(() => ffmpeg.kill("SIGKILL"));
      const chunks: Buffer[] = [];
      let errors = "";
      ffmpeg.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
      ffmpeg.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => ffmpeg.once("close", resolve));
      expect(code, errors).toBe(0);
      const raw = Buffer.concat(chunks);
      const frameBytes = width * height * 3;
      expect(raw.length).toBe(FRAMES * frameBytes);
      const frames = Array.from({ length: FRAMES }, (_, i) =>
        inspectFrame(createFrame(raw.subarray(i * frameBytes, (i + 1) * frameBytes), width, height)),
      );
      expect(frames.filter((f) => !isIntact(f))).toEqual([]);
      expect(isStrictlyIncreasing(frames.map((f) => f.number))).toBe(true);
    },
    120_000,
  );
});

describe("live view: binding and tokens", () => {
  it("a receiver with no window says how to watch in a browser instead", async () => {
    const receiver = spawnChild(
      process.execPath,
      [
        RECEIVER_MAIN,
        "--log-format",
        "json",
        "--host",
        "127.0.0.1",
        "--port",
        String(await freePort()),
        "--output",
        "none",
        "--display",
        "auto",
      ],
      { name: "receiver", env: { DISPLAY: undefined }, timeoutMs: 30_000 },
    );
    cleanup.kill(receiver);
    await receiver.waitFor(/"msg":"to watch in a browser instead, start the receiver with --http 8080/);
    receiver.signal("SIGINT");
    expect(await receiver.exited).toBe(0);
  });

  it("a non-loopback bind without a token: exit 2 and one line that says what to do", async () => {
    const receiver = spawnChild(
      process.execPath,
      receiverArgv(["--port", String(await freePort()), "--http", "0.0.0.0:8080"]),
      { name: "receiver", timeoutMs: 30_000 },
    );
    cleanup.kill(receiver);
    expect(await receiver.exited).toBe(2);
    const lines = receiver.stderr().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /--http 0\.0\.0\.0:8080: binding 0\.0\.0\.0 \(not loopback\).*--http-token TOKEN.*--http-insecure/,
    );
  });

  it("a non-loopback bind with a token: 401 without it (counted), 200 with it; the token is never logged", async () => {
    const token = "a-token-of-the-test-4711";
    const port = await freePort();
    const receiver = await startReceiver([
      ...loopbackReceiveArgs(port, { output: "none" }),
      ...["--http", "0.0.0.0:0", "--http-token", token],
    ]);
    cleanup.kill(receiver);
    const match = await receiver.waitFor(/"url":"http:\/\/0\.0\.0\.0:(\d+)\/"/);
    // Bound to every interface, but only ever spoken to on loopback.
    const base = `http://127.0.0.1:${match[1]}`;
    for (const path of ["/", "/api/streams", "/metrics", "/streams/00000001.jpg"]) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(401);
      expect((await fetch(`${base}${path}`, { headers: { Authorization: "Bearer wrong" } })).status, path).toBe(401);
    }
    expect((await fetch(`${base}/api/streams`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await fetch(`${base}/?token=${token}`)).status).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const metrics = parsePrometheus(await (await fetch(`${base}/metrics?token=${token}`)).text());
    expect(sampleValue(metrics.samples, "udpcam_receiver_http_unauthorized_requests_total")).toBe(8);
    receiver.signal("SIGINT");
    expect(await receiver.exited).toBe(0);
    expect(receiver.stderr() + receiver.stdout()).not.toContain(token);
  });
});
