// Efficiency (issue 16): the sender's CPU per frame decoding and re-encoding JPEG against GStreamer's pipeline,
// the sender's and receiver's CPU per datagram against bare Node dgram loops, and raw 1280x720 at 25 fps in
// 1,472-byte datagrams on plain loopback. Same machine, same run. Writes docs/benchmarks/efficiency.md.
// Usage: node dist/efficiency.js [--quick]. A benchmark, not a test: a missed target is written down, exit 0.
import { createSocket, type Socket } from "node:dgram";
import { cpus, freemem, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import { DEFAULT_MAX_DATAGRAM_BYTES, packetizeFrame } from "@udpcam/protocol";
import {
  RECEIVER_LISTENING,
  REPO_ROOT,
  freePort,
  loopbackReceiveArgs,
  loopbackTargetArgs,
  readReceiverStats,
  readSenderStats,
  receiverArgv,
  senderArgv,
  sourceArgs,
  writePatternClip,
} from "@udpcam/testkit";
import { readQuick } from "./options.js";
import { IMPLS } from "./peers.js";
import { finish, start, type TimedChild } from "./proc.js";
import { benchSession, runBench, writeReport } from "./report.js";
import { measure, type BenchSetup } from "./runs.js";
import { slope } from "./slope.js";
import { median } from "./summary.js";

const quick = readQuick(
  "bench efficiency",
  {
    usage: "node tools/bench/dist/efficiency.js [--quick]",
    summary:
      "CPU per frame (sender, JPEG decode + re-encode, against GStreamer) and per datagram (sender and receiver, against bare dgram loops), and raw 1280x720 at 25 fps in 1,472-byte datagrams; writes docs/benchmarks/efficiency.md.",
  },
  "one run each and short runs, for development (figures not for comparison)",
);

const OUT = join(REPO_ROOT, "docs/benchmarks/efficiency.md");
const RUNS = quick ? 1 : 3;
/** The two run lengths whose difference gives CPU per frame with process start-up taken out. */
const SHORT = quick ? 40 : 100;
const LONG = quick ? 120 : 400;
const TARGET_RATIO = 1.5;
/** Per-datagram runs: raw 640x480 test pattern frames at this rate, cut into 1,472 or 2,944-byte datagrams. */
const DGRAM_FPS = 50;
/**
 * The per-datagram runs' second size: twice 1,472, so half the datagrams for the same bytes. Both sizes must take
 * the same path through the receiver: at 4 KB and above the reassembler handles a chunk differently (it copies it
 * once, not twice), so a pair with 65,507 B (the method until 2026-12-02) put a frame's extra copy on the 1,472 B
 * run's datagrams and read it as a cost per datagram.
 */
const PAIRED_DATAGRAM_BYTES = 2 * DEFAULT_MAX_DATAGRAM_BYTES;
const DGRAM_FRAMES = quick ? 50 : 150;
const RAW_BYTES = 640 * 480 * 3;
const RAW720_FRAMES = quick ? 50 : 125;
const GST = "gst-launch-1.0";
const SENDER_TIMEOUT_MS = 180_000;

const { dir, log, cleanup } = benchSession("udpcam-bench-efficiency-", "bench efficiency");
const setup: BenchSetup = { dir, runs: RUNS, progress: log };
let runCount = 0;
const usageFile = (): string => join(dir, `usage-${runCount++}.txt`);
const f2 = (v: number | undefined): string => (v === undefined ? "n/a" : v.toFixed(2));
const f0 = (v: number | undefined): string => (v === undefined ? "n/a" : v.toFixed(0));
const mark = (pass: boolean | undefined): string =>
  pass === undefined ? "**not measured**" : pass ? "**pass**" : "**miss**";
const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || b <= 0 ? undefined : a / b;

/** A socket of this process that takes whatever a sender sends, so that no sender meets a closed port. */
async function sink(): Promise<{ port: number; received: () => number; close: () => void }> {
  const socket: Socket = createSocket({ type: "udp4", recvBufferSize: 8 << 20 });
  let received = 0;
  socket.on("message", () => received++);
  await new Promise<void>((done) => socket.bind(0, "127.0.0.1", done));
  return { port: socket.address().port, received: () => received, close: () => socket.close() };
}

// ---------------------------------------------------------------- sender CPU per frame

type SenderKind = "reencode" | "passthrough" | "gst";

const SENDER_LABELS: Record<SenderKind, string> = {
  reencode: "udpcam, decode + re-encode (`--jpeg-passthrough off`, q80, 1,472 B datagrams, no FEC)",
  passthrough: "udpcam, JPEG pass-through (the clip's own JPEG, no decode: reference)",
  gst: "GStreamer `filesrc ! avidemux ! jpegdec ! jpegenc quality=80 ! rtpjpegpay ! udpsink` (1,400 B packets)",
};

/** One sender run, flat out, to the sink: its whole-process CPU seconds (GNU time). */
async function senderRun(kind: SenderKind, clip: string, frames: number): Promise<number | undefined> {
  const target = await sink();
  try {
    let child: TimedChild;
    if (kind === "gst") {
      child = start(
        "gst sender",
        GST,
        [
          ...["-q", "filesrc", `location=${clip}`, "!", "avidemux", "!", "identity", `eos-after=${frames}`],
          ...["!", "jpegdec", "!", "jpegenc", "quality=80", "!", "rtpjpegpay", "!", "udpsink"],
          ...["host=127.0.0.1", `port=${target.port}`, "sync=false"],
        ],
        { timeoutMs: SENDER_TIMEOUT_MS, usageFile: usageFile() },
      );
    } else {
      const args = senderArgv([
        ...sourceArgs({ source: clip, codec: "jpeg", fps: 1000, frames }),
        ...loopbackTargetArgs(target.port),
        ...["--quality", "80", "--datagram-size", String(DEFAULT_MAX_DATAGRAM_BYTES), "--fec", "0"],
        ...(kind === "reencode" ? ["--jpeg-passthrough", "off"] : []),
      ]);
      child = start("sender", process.execPath, args, { timeoutMs: SENDER_TIMEOUT_MS, usageFile: usageFile() });
    }
    const code = await finish(child, SENDER_TIMEOUT_MS);
    if (code !== 0) {
      log(`${kind} sender exited with ${code}: ${child.stderr().slice(-300)}`);
      return undefined;
    }
    return child.usage()?.cpuSeconds;
  } finally {
    target.close();
  }
}

interface SenderSlope {
  /** CPU ms a frame: (CPU of the long run - CPU of the short one) / (LONG - SHORT), medians of RUNS. */
  readonly msPerFrame: number | undefined;
  /** What is left at 0 frames: process start-up and shut-down, seconds. */
  readonly startSeconds: number | undefined;
}

async function senderSlope(kind: SenderKind, clip: string): Promise<SenderSlope> {
  const short: (number | undefined)[] = [];
  const long: (number | undefined)[] = [];
  for (let run = 0; run < RUNS; run++) {
    short.push(await senderRun(kind, clip, SHORT));
    long.push(await senderRun(kind, clip, LONG));
  }
  const { perUnit, fixed } = slope({ units: SHORT, costs: short }, { units: LONG, costs: long });
  return { msPerFrame: perUnit === undefined ? undefined : perUnit * 1000, startSeconds: fixed };
}

// ---------------------------------------------------------------- CPU per datagram

interface PairRun {
  readonly senderCpu: number | undefined;
  readonly receiverCpu: number | undefined;
  readonly sent: number;
  readonly received: number;
}

const LOOP_SCRIPT = join(REPO_ROOT, "tools/bench/dist/loop.js");

/** The bare loops: one process sends DGRAM_FRAMES frames of raw 640x480 size in `bytes` datagrams, one counts. */
async function bareRun(bytes: number): Promise<PairRun> {
  const port = await freePort();
  const receiver = start("loop recv", process.execPath, [LOOP_SCRIPT, "--mode", "recv", "--port", String(port)], {
    timeoutMs: SENDER_TIMEOUT_MS,
    usageFile: usageFile(),
  });
  await receiver.waitFor(/listening/);
  const sender = start(
    "loop send",
    process.execPath,
    [
      ...[LOOP_SCRIPT, "--mode", "send", "--port", String(port), "--frames", String(DGRAM_FRAMES)],
      ...["--frame-bytes", String(RAW_BYTES), "--bytes", String(bytes), "--fps", String(DGRAM_FPS)],
    ],
    { timeoutMs: SENDER_TIMEOUT_MS, usageFile: usageFile() },
  );
  await finish(sender, SENDER_TIMEOUT_MS);
  await finish(receiver, 20_000);
  const sent = (JSON.parse(sender.stdout().trim() || "{}") as { sent?: number }).sent ?? 0;
  const received = (JSON.parse(receiver.stdout().trim() || "{}") as { datagrams?: number }).datagrams ?? 0;
  return { senderCpu: sender.usage()?.cpuSeconds, receiverCpu: receiver.usage()?.cpuSeconds, sent, received };
}

/** udpcam: the same frames (test pattern, raw 640x480, no FEC), recording off, in `bytes` datagrams. */
async function udpcamRun(bytes: number): Promise<PairRun> {
  const port = await freePort();
  const rxStats = join(dir, `rx-${runCount}.json`);
  const txStats = join(dir, `tx-${runCount}.json`);
  const receiver = start(
    "receiver",
    process.execPath,
    receiverArgv(loopbackReceiveArgs(port, { output: "none", stats: rxStats, idleExit: 1 })),
    { timeoutMs: SENDER_TIMEOUT_MS, usageFile: usageFile() },
  );
  await receiver.waitFor(RECEIVER_LISTENING);
  const sender = start(
    "sender",
    process.execPath,
    senderArgv([
      ...sourceArgs({ source: "test", codec: "raw", width: 640, height: 480, fps: DGRAM_FPS, frames: DGRAM_FRAMES }),
      ...loopbackTargetArgs(port),
      ...["--datagram-size", String(bytes), "--fec", "0", "--stats", txStats],
    ]),
    { timeoutMs: SENDER_TIMEOUT_MS, usageFile: usageFile() },
  );
  await finish(sender, SENDER_TIMEOUT_MS);
  await finish(receiver, 20_000);
  return {
    senderCpu: sender.usage()?.cpuSeconds,
    receiverCpu: receiver.usage()?.cpuSeconds,
    sent: readSenderStats(txStats).datagramsSent,
    received: readReceiverStats(rxStats).datagramsReceived,
  };
}

interface PerDatagram {
  /** Marginal CPU µs a datagram: (CPU at 1,472 B - CPU at 2,944 B) / (datagrams at 1,472 - at 2,944). */
  readonly senderUs: number | undefined;
  readonly receiverUs: number | undefined;
  readonly small: PairRun;
  readonly paired: PairRun;
}

async function perDatagram(run: (bytes: number) => Promise<PairRun>): Promise<PerDatagram> {
  const small: PairRun[] = [];
  const paired: PairRun[] = [];
  for (let i = 0; i < RUNS; i++) {
    small.push(await run(DEFAULT_MAX_DATAGRAM_BYTES));
    paired.push(await run(PAIRED_DATAGRAM_BYTES));
  }
  const med = (runs: PairRun[]): PairRun => ({
    senderCpu: median(runs.map((r) => r.senderCpu)),
    receiverCpu: median(runs.map((r) => r.receiverCpu)),
    sent: median(runs.map((r) => r.sent)) ?? 0,
    received: median(runs.map((r) => r.received)) ?? 0,
  });
  const s = med(small);
  const l = med(paired);
  // The same bytes in half the datagrams: the paired runs are the short length, in datagrams.
  const us = (units: (r: PairRun) => number, cpu: (r: PairRun) => number | undefined): number | undefined => {
    const perUnit = slope(
      { units: units(l), costs: paired.map(cpu) },
      { units: units(s), costs: small.map(cpu) },
    ).perUnit;
    return perUnit === undefined ? undefined : perUnit * 1e6;
  };
  return {
    senderUs: us(
      (r) => r.sent,
      (r) => r.senderCpu,
    ),
    receiverUs: us(
      (r) => r.received,
      (r) => r.receiverCpu,
    ),
    small: s,
    paired: l,
  };
}

// ---------------------------------------------------------------- the report

async function main(): Promise<void> {
  const loadAtStart = loadavg();
  const startedAt = new Date();
  const lines: string[] = [];
  const push = (...more: string[]): void => void lines.push(...more);
  const clips = {
    640: join(dir, "clip-640x480.avi"),
    720: join(dir, "clip-1280x720.avi"),
  } as const;
  await writePatternClip(clips[640], { width: 640, height: 480, frames: LONG });
  await writePatternClip(clips[720], { width: 1280, height: 720, frames: Math.max(LONG, RAW720_FRAMES) });
  log("clips written");

  const sizes = [
    { label: "640x480", clip: clips[640] },
    { label: "1280x720", clip: clips[720] },
  ];
  const perFrame: { label: string; rows: Record<SenderKind, SenderSlope> }[] = [];
  for (const size of sizes) {
    const rows = {} as Record<SenderKind, SenderSlope>;
    for (const kind of ["gst", "reencode", "passthrough"] as const) {
      rows[kind] = await senderSlope(kind, size.clip);
      log(`${size.label} ${kind}: ${f2(rows[kind].msPerFrame)} ms/frame, start ${f2(rows[kind].startSeconds)} s`);
    }
    perFrame.push({ label: size.label, rows });
  }

  const bare = await perDatagram(bareRun);
  log(`bare loops: send ${f2(bare.senderUs)} us, receive ${f2(bare.receiverUs)} us a datagram`);
  const ours = await perDatagram(udpcamRun);
  log(`udpcam: send ${f2(ours.senderUs)} us, receive ${f2(ours.receiverUs)} us a datagram`);

  const raw720 = await measure(setup, {
    impl: IMPLS["ours-raw-1472"],
    clip: clips[720],
    width: 1280,
    height: 720,
    fps: 25,
    frames: RAW720_FRAMES,
    loss: undefined,
    record: false,
  });
  const frameBytes = 1280 * 720 * 3;
  const datagramsPerFrame = packetizeFrame(
    {
      streamId: 1,
      frameNumber: 0,
      codec: "raw-bgr24",
      width: 1280,
      height: 720,
      fps: 25,
      timestampMs: 0,
      payload: new Uint8Array(frameBytes),
    },
    { maxDatagramBytes: DEFAULT_MAX_DATAGRAM_BYTES, fecOverhead: 0.1 },
  ).length;

  const loadAtEnd = loadavg();
  push(
    "# Efficiency: CPU per frame and per datagram",
    "",
    `- Date: ${startedAt.toISOString()}; took ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s${quick ? " (--quick: one run each, short runs; not for comparison)" : ""}`,
    `- Machine: ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM (${(freemem() / 2 ** 30).toFixed(0)} free), Linux ${release()}; Node ${process.version}`,
    `- Load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(" ")}, at end ${loadAtEnd.map((l) => l.toFixed(2)).join(" ")} (2 cores: above 2 the machine was shared with other work; the ratios compare runs of this same run)`,
    `- CPU is user + system seconds of each whole process (GNU time). Every figure is the median of ${RUNS} run(s).`,
    "",
  );

  const ratios = perFrame.map((size) => ({
    label: size.label,
    value: ratio(size.rows.reencode.msPerFrame, size.rows.gst.msPerFrame),
  }));
  const sendRatio = ratio(ours.senderUs, bare.senderUs);
  const receiveRatio = ratio(ours.receiverUs, bare.receiverUs);
  const raw720Clean = raw720.cleanRuns * 2 > raw720.runs.length;
  push(
    "## Targets",
    "",
    "| target | result | evidence |",
    "| --- | --- | --- |",
    ...ratios.map(
      (r) =>
        `| sender CPU per frame, JPEG decode + re-encode from the MJPG clip, at most ${TARGET_RATIO}x GStreamer's: ${r.label} | ${mark(r.value === undefined ? undefined : r.value <= TARGET_RATIO)} | ${r.value === undefined ? "n/a" : `${r.value.toFixed(2)}x`} (table below) |`,
    ),
    `| sender CPU per datagram (1,472 B) at most ${TARGET_RATIO}x a bare send loop's | ${mark(sendRatio === undefined ? undefined : sendRatio <= TARGET_RATIO)} | ${f2(ours.senderUs)} µs against ${f2(bare.senderUs)} µs: ${sendRatio === undefined ? "n/a" : `${sendRatio.toFixed(2)}x`} |`,
    `| receiver CPU per datagram (1,472 B, recording off) at most ${TARGET_RATIO}x a bare counting loop's | ${mark(receiveRatio === undefined ? undefined : receiveRatio <= TARGET_RATIO)} | ${f2(ours.receiverUs)} µs against ${f2(bare.receiverUs)} µs: ${receiveRatio === undefined ? "n/a" : `${receiveRatio.toFixed(2)}x`} |`,
    `| raw 1280x720 at 25 fps in 1,472 B datagrams (FEC 10%), plain loopback: every frame whole | ${mark(raw720Clean)} | ${raw720.runs.map((r) => `${r.complete}/${r.sent}`).join(", ")} frames complete; ${datagramsPerFrame} datagrams a frame, ${f0(datagramsPerFrame * 25)} a second |`,
    "",
  );

  push(
    "## Sender CPU per frame: JPEG decode + re-encode from the same clip",
    "",
    `Input: the test pattern as an MJPG AVI per size (every frame different). Each sender decodes every frame and encodes it again at quality 80, flat out, to a socket of the bench that only takes the datagrams. *ms/frame* is (CPU for ${LONG} frames - CPU for ${SHORT}) / ${LONG - SHORT}: start-up taken out; *start* is what is left at 0 frames (process start, loading OpenCV or GStreamer's plugins, shut-down).`,
    "",
    "| size | sender | ms/frame | start s | vs GStreamer |",
    "| --- | --- | ---: | ---: | ---: |",
  );
  for (const size of perFrame) {
    for (const kind of ["gst", "reencode", "passthrough"] as const) {
      const row = size.rows[kind];
      const r = ratio(row.msPerFrame, size.rows.gst.msPerFrame);
      push(
        `| ${size.label} | ${SENDER_LABELS[kind]} | ${f2(row.msPerFrame)} | ${f2(row.startSeconds)} | ${r === undefined ? "n/a" : `${r.toFixed(2)}x`} |`,
      );
    }
  }
  push("");

  push(
    "## CPU per datagram at 1,472 bytes",
    "",
    `The same bytes, cut into 1,472 or 2,944-byte datagrams: ${DGRAM_FRAMES} raw 640x480 frames (921,600 B) at ${DGRAM_FPS} fps on loopback, no FEC. *µs/datagram* is (CPU at 1,472 B - CPU at 2,944 B) / (datagrams at 1,472 B - at 2,944 B): the cost of one more datagram, with start-up and the per-frame and per-byte work (the test pattern, copies) taken out. Both sizes are below the 4 KB at which the receiver copies a chunk once instead of twice, so both take the same path; until 2026-12-02 the pair was 1,472 and 65,507 B, which put that frame copy on the small datagrams. The bare loops (\`tools/bench/src/loop.ts\`) send on a connected socket, 64 datagrams a turn of the event loop, each frame when due, and count what arrives; udpcam's receiver runs with \`--output none\`. Datagrams are counted where each side counts them (received: what the receiving process read).`,
    "",
    "| pair | datagrams sent (1,472 / 2,944 B) | received | sender CPU s | receiver CPU s | sender µs/datagram | receiver µs/datagram |",
    "| --- | --- | --- | --- | --- | ---: | ---: |",
  );
  for (const [label, p] of [
    ["bare dgram loops", bare],
    ["udpcam sender and receiver", ours],
  ] as const) {
    push(
      `| ${label} | ${p.small.sent} / ${p.paired.sent} | ${p.small.received} / ${p.paired.received} | ${f2(p.small.senderCpu)} / ${f2(p.paired.senderCpu)} | ${f2(p.small.receiverCpu)} / ${f2(p.paired.receiverCpu)} | ${f2(p.senderUs)} | ${f2(p.receiverUs)} |`,
    );
  }
  push("");

  push(
    "## Raw 1280x720 at 25 fps in 1,472-byte datagrams, plain loopback",
    "",
    `The MJPG clip decoded by the sender and sent raw (\`--codec raw --datagram-size 1472\`, FEC auto = 10%), ${RAW720_FRAMES} frames at 25 fps straight to the receiver (no netsim), recording off: frames counted whole by the receiver. ${datagramsPerFrame} datagrams a frame is ${f0(datagramsPerFrame * 25)} a second.`,
    "",
    "| run | frames complete / sent | sender CPU ms/frame | receiver CPU ms/frame | sender µs/datagram (whole process) | receiver µs/datagram (whole process) |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
  );
  raw720.runs.forEach((r, i) => {
    const datagrams = r.sent * datagramsPerFrame;
    const us = (cpu: number | undefined): string => (cpu === undefined ? "n/a" : ((cpu * 1e6) / datagrams).toFixed(2));
    push(
      `| ${i + 1} | ${r.complete}/${r.sent} | ${f2(r.senderCpuSeconds === undefined ? undefined : (r.senderCpuSeconds * 1000) / r.sent)} | ${f2(r.receiverCpuSeconds === undefined ? undefined : (r.receiverCpuSeconds * 1000) / r.sent)} | ${us(r.senderCpuSeconds)} | ${us(r.receiverCpuSeconds)} |${r.failure === undefined ? "" : ` failed: ${r.failure}`}`,
    );
  });
  push(
    "",
    "<!-- analysis -->",
    "",
    "## Reading the results (written by hand; `pnpm bench` keeps everything below the marker)",
    "",
  );
  writeReport(OUT, lines);
  log(`wrote ${OUT}`);
}

await runBench(main, log, cleanup);
