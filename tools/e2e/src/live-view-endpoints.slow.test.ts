/**
 * The live view's other endpoints with the real apps: /metrics parsed as
 * Prometheus text and agreeing with --stats, /streams/ID.mjpeg read by ffmpeg
 * (frames whose pixels match the source), and the bind and token rules.
 */
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startNetsim } from "@udpcam/netsim";
import { DEFAULT_MAX_DATAGRAM_BYTES } from "@udpcam/protocol";
import { createFrame, decodeJpeg } from "@udpcam/video";
import { describe, expect, it } from "vitest";
import {
  RECEIVER_MAIN,
  freePort,
  inspectFrame,
  isIntact,
  isStrictlyIncreasing,
  loopbackReceiveArgs,
  loopbackTargetArgs,
  readReceiverStats,
  receiveArgs,
  rtpCounters,
  receiverArgv,
  sourceArgs,
  spawnChild,
  startReceiver,
  startSender,
  tempDir,
  v1Counters,
  type ReceiverStats,
  type V1Counters,
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
  type Sample,
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
    const streams = await apiStreams(base);
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
      accepted: value("datagrams_accepted_total"),
      badMagic: value("datagrams_malformed_total", { code: "BAD_MAGIC" }),
      decrypted: value("datagrams_decrypted_total"),
      frameBytes: value("complete_frame_bytes_total"),
      recordingTook: value("sink_frames_delivered_total", { sink: "recording" }),
      recordingUndecodable: value("sink_frames_undecodable_total", { sink: "recording" }),
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
      accepted: v1.datagramsAccepted,
      badMagic: v1.malformedByCode.BAD_MAGIC,
      decrypted: v1.datagramsDecrypted,
      frameBytes: v1.bytesEmitted,
      recordingTook: stats.sinks["recording"]?.delivered,
      recordingUndecodable: stats.sinks["recording"]?.undecodable,
    });
    // The garbage is malformed for its first bytes; each of the keyed sender's datagrams arrived encrypted.
    expect(v1.malformedByCode.BAD_MAGIC).toBe(5);
    expect(v1.datagramsAccepted).toBeGreaterThanOrEqual(100);
    expect(v1.datagramsDecrypted).toBe(v1.datagramsAccepted);
    expect(stats.sinks["recording"]?.delivered).toBe(100);
    // /api/streams: the keyed sender's stream alone (the forger's never started one), its datagrams and frames.
    expect(streams).toHaveLength(1);
    expect(streams[0]).toMatchObject({
      datagramsReceived: v1.datagramsAccepted,
      framesRecorded: 100,
      framesDelivered: 100,
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

  it("/api/streams of an RTP stream: its rate from the RTP clock, its datagrams and recorded frames as --stats counts them", async () => {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const port = await freePort();
    const statsFile = join(dir.path, "stats.json");
    const { receiver, base } = await startLiveReceiver([
      ...["--protocol", "rtp"],
      ...receiveArgs(port, { output: join(dir.path, "rec.avi"), fourcc: "MJPG", stats: statsFile, idleExit: 2 }),
    ]);
    cleanup.kill(receiver);
    const sender = startSender([
      ...sourceArgs({ source: "test", codec: "jpeg", fps: 30, frames: 90 }),
      ...["--protocol", "rtp", "--datagram-size", "1400"],
      ...loopbackTargetArgs(port),
    ]);
    cleanup.kill(sender);
    const during = await eventually("30 frames of the stream", async () => {
      const [stream] = await apiStreams(base);
      return stream !== undefined && stream.framesDelivered >= 30 ? stream : undefined;
    });
    expect(await sender.exited).toBe(0);
    await sleep(400);
    const [end] = await apiStreams(base);
    expect(await receiver.exited).toBe(0);
    const stats = readReceiverStats(statsFile);
    // The sender's 30 fps: its timestamps (capture times on the 90 kHz clock) step 33 or 34 ms, and a sender on a
    // busy machine falls behind and catches up; not 0, not the 25 a rate unknown is taken for. The rate measured
    // from arrivals is near it.
    for (const stream of [during, end]) {
      expect(stream?.senderFps).toBeGreaterThan(27);
      expect(stream?.senderFps).toBeLessThan(33);
    }
    expect(during.fps).toBeGreaterThan(20);
    expect(during.fps).toBeLessThan(40);
    // A busy machine may lose a packet on loopback: the counts agree whatever arrived.
    expect(stats.framesRecorded).toBeGreaterThanOrEqual(85);
    expect(end).toMatchObject({
      datagramsReceived: rtpCounters(stats).datagramsAccepted,
      framesRecorded: stats.framesRecorded,
    });
    // 640x480 JPEG in 1,400-byte packets: many a frame.
    expect(end?.datagramsReceived).toBeGreaterThan(90 * 5);
  }, 120_000);

  it("rejects text that is not Prometheus' (the parser the test trusts)", () => {
    expect(() => parsePrometheus("# TYPE a counter\na 1\n")).not.toThrow();
    expect(() => parsePrometheus("a 1\n")).toThrow(/no TYPE/);
    expect(() => parsePrometheus("# TYPE a counter\na one\n")).toThrow(/not Prometheus text/);
  });
});

/** One run through netsim's loss with --http: a scrape while the stream flows, one at its end, and --stats. */
async function lossyRun(
  link: { loss: number; burst?: number; seed: number },
  both: readonly string[],
  senderArgs: readonly string[],
): Promise<{ during: Sample[]; end: Sample[]; v1: V1Counters; stats: ReceiverStats }> {
  const dir = tempDir();
  cleanup.add(dir.remove);
  const port = await freePort();
  const statsFile = join(dir.path, "stats.json");
  const { receiver, base } = await startLiveReceiver([
    ...receiveArgs(port, { output: "none", stats: statsFile, idleExit: 1.5 }),
    ...both,
  ]);
  cleanup.kill(receiver);
  const netsim = await startNetsim({ target: { host: "127.0.0.1", port }, ...link });
  cleanup.add(() => void netsim.close());
  const sender = startSender([
    ...sourceArgs({ source: "test", codec: "jpeg", width: 640, height: 480, fps: 25, frames: 125 }),
    ...["--datagram-size", String(DEFAULT_MAX_DATAGRAM_BYTES)],
    ...loopbackTargetArgs(netsim.port),
    ...both,
    ...senderArgs,
  ]);
  cleanup.kill(sender);
  // Two seconds in, the stream is flowing: what the receiver holds now is in the gauges.
  await eventually("50 frames", async () => {
    const n = sampleValue((await scrape(base)).samples, "udpcam_receiver_frames_delivered_total") ?? 0;
    return n >= 50 ? n : undefined;
  });
  const during = (await scrape(base)).samples;
  expect(await sender.exited, sender.stderr()).toBe(0);
  // Ingest reports its counters every 100 ms; the receiver stops after 1.5 s of silence.
  await sleep(400);
  const end = (await scrape(base)).samples;
  expect(await receiver.exited, receiver.stderr()).toBe(0);
  await netsim.close();
  const stats = readReceiverStats(statsFile);
  return { during, end, v1: v1Counters(stats), stats };
}

describe("live view: /metrics under loss (real sender -> netsim -> receiver)", () => {
  it("window FEC: repairs used, sources rebuilt and the window's bytes, as --stats counts them", async () => {
    const { during, end, v1, stats } = await lossyRun(
      { loss: 0.02, seed: 5 },
      [],
      ["--fec", "0.1", "--fec-scheme", "window"],
    );
    const value = (name: string, labels?: Record<string, string>) =>
      sampleValue(end, `udpcam_receiver_${name}`, labels);
    expect({
      repairDatagrams: value("window_repair_datagrams_total"),
      used: value("window_repairs_total", { outcome: "used" }),
      unneeded: value("window_repairs_total", { outcome: "unneeded" }),
      unmatched: value("window_repairs_total", { outcome: "unmatched" }),
      inconsistent: value("window_repairs_total", { outcome: "inconsistent" }),
      sourcesRecovered: value("window_sources_recovered_total"),
      equationsExpired: value("window_equations_expired_total"),
      shed: value("window_shed_total"),
      accepted: value("datagrams_accepted_total"),
      frameBytes: value("complete_frame_bytes_total"),
    }).toEqual({
      repairDatagrams: v1.datagramsRepair,
      used: v1.repairsReceived,
      unneeded: v1.repairsUnneeded,
      unmatched: v1.repairsUnmatched,
      inconsistent: v1.repairsInconsistent,
      sourcesRecovered: v1.sourcesRecovered,
      equationsExpired: v1.equationsExpired,
      shed: v1.windowShed,
      accepted: v1.datagramsAccepted,
      frameBytes: v1.bytesEmitted,
    });
    console.log(
      `window FEC: ${v1.repairsReceived} of ${v1.datagramsRepair} repairs used, ${v1.sourcesRecovered} sources rebuilt, ` +
        `window held ${sampleValue(during, "udpcam_receiver_window_buffered_bytes")} B mid-run`,
    );
    // What the loss made happen: repairs used and datagrams rebuilt; none shed (4 MiB a stream is plenty).
    expect(v1.repairsReceived).toBeGreaterThan(0);
    expect(v1.sourcesRecovered).toBeGreaterThan(0);
    expect(v1.datagramsRepair).toBeGreaterThanOrEqual(v1.repairsReceived);
    expect(v1.windowShed).toBe(0);
    expect(v1.repairsUnmatched).toBe(0);
    expect(v1.bytesEmitted).toBeGreaterThan(125 * 10_000);
    expect(stats.framesComplete).toBeGreaterThan(120);
    // While the stream flowed the window held the last --latency of sources; with the stream gone, none.
    expect(sampleValue(during, "udpcam_receiver_window_buffered_bytes")).toBeGreaterThan(10_000);
    expect(sampleValue(during, "udpcam_receiver_reassembly_streams")).toBe(1);
    expect(value("nacks_sent_total")).toBe(0);
  }, 120_000);

  it("NACK: NACKs sent, datagrams asked for and recovered, as --stats counts them", async () => {
    const { end, v1 } = await lossyRun({ loss: 0.01, burst: 4, seed: 8 }, ["--nack", "on"], ["--fec", "0"]);
    const value = (name: string) => sampleValue(end, `udpcam_receiver_${name}`);
    const { nack } = v1;
    expect({
      sent: value("nacks_sent_total"),
      requested: value("nack_datagrams_requested_total"),
      framesRequested: value("nack_frames_requested_total"),
      recovered: value("nack_datagrams_recovered_total"),
      duplicate: value("nack_datagrams_duplicate_total"),
      expired: value("nack_datagrams_expired_total"),
      sendErrors: value("nack_send_errors_total"),
    }).toEqual({
      sent: nack.nacksSent,
      requested: nack.datagramsRequested,
      framesRequested: nack.framesRequested,
      recovered: nack.datagramsRecoveredByNack,
      duplicate: nack.datagramsRequestedDuplicate,
      expired: nack.gapsExpired,
      sendErrors: nack.nackSendErrors,
    });
    console.log(
      `NACK: ${nack.nacksSent} sent for ${nack.datagramsRequested} datagrams, ${nack.datagramsRecoveredByNack} recovered`,
    );
    expect(nack.nacksSent).toBeGreaterThan(0);
    expect(nack.datagramsRequested).toBeGreaterThanOrEqual(nack.nacksSent);
    expect(nack.datagramsRecoveredByNack).toBeGreaterThan(0);
    expect(nack.nackSendErrors).toBe(0);
    // No window FEC on this stream: none of its repairs.
    expect(value("window_repair_datagrams_total")).toBe(0);
  }, 120_000);
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
