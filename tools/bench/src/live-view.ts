// The live view's benchmark: capture-to-paint latency in headless Chromium (Debian's, driven
// by playwright-core), and the receiver's CPU per frame with 0, 1 and 10 viewers, for JPEG
// and raw streams on loopback. Writes docs/benchmarks/live-view.md.
// Usage: node dist/live-view.js [--quick]. A benchmark, not a test: the exit code stays 0.
import { connect, type Socket } from "node:net";
import { readFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  REPO_ROOT,
  freePort,
  killAllChildren,
  loopbackReceiveArgs,
  startReceiver,
  startSender,
  type Child,
} from "@udpcam/testkit";
import { chromium, type Browser } from "playwright-core";
import { readQuick } from "./options.js";
import { ANALYSIS_MARKER, runBench, writeReport } from "./report.js";
import { median } from "./summary.js";

const quick = readQuick(
  "bench live-view",
  {
    usage: "node tools/bench/dist/live-view.js [--quick]",
    summary:
      "The live view: capture-to-paint latency in headless Chromium, and the receiver's CPU per frame with 0, 1 and 10 viewers; writes docs/benchmarks/live-view.md.",
  },
  "short runs, for development (figures not for comparison)",
);

const OUT = join(REPO_ROOT, "docs/benchmarks/live-view.md");
const FPS = 25;
/** Each figure is the median of this many runs (the machine is shared: one run can catch a busy moment). */
const RUNS = quick ? 1 : 3;
/** Latency: frames painted before the page's window of 600 paint latencies is read (warm-up excluded by its length). */
const LATENCY_SECONDS = quick ? 12 : 32;
/** CPU: the receiver's user + system time over this steady window, after a warm-up. */
const CPU_WARMUP_SECONDS = quick ? 2 : 4;
const CPU_SECONDS = quick ? 5 : 15;
const CLOCK_TICKS_PER_SECOND = 100;
const CHROMIUM = "/usr/bin/chromium";

const log = (line: string): void => void process.stderr.write(`bench live-view: ${line}\n`);

type Codec = "jpeg" | "raw";

async function liveReceiver(port: number): Promise<{ receiver: Child; base: string }> {
  const receiver = await startReceiver([...loopbackReceiveArgs(port, { output: "none" }), "--http", "127.0.0.1:0"]);
  const match = await receiver.waitFor(/"url":"(http:\/\/[^"]+)\/"/);
  return { receiver, base: match[1] ?? "" };
}

function sender(port: number, codec: Codec, width: number, height: number, seconds: number): Child {
  const args = [
    "--source",
    "test",
    "--codec",
    codec,
    "--width",
    String(width),
    "--height",
    String(height),
    "--fps",
    String(FPS),
    "--frames",
    String(FPS * seconds),
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
  ];
  return startSender(args);
}

async function streamId(base: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const response = await fetch(`${base}/api/streams`);
    const body = (await response.json()) as { streams: { id: string }[] };
    if (body.streams[0] !== undefined) return body.streams[0].id;
    await sleep(100);
  }
  throw new Error("no stream appeared in /api/streams");
}

async function stop(...children: Child[]): Promise<void> {
  for (const child of children) child.signal("SIGINT");
  await Promise.all(children.map((child) => child.exited));
}

// ---------------------------------------------------------------- capture to paint

interface LatencyResult {
  readonly codec: Codec;
  readonly width: number;
  readonly height: number;
  readonly p50: number | undefined;
  readonly p99: number | undefined;
  readonly painted: number;
  readonly skipped: number;
}

async function paintLatency(browser: Browser, codec: Codec, width: number, height: number): Promise<LatencyResult> {
  const port = await freePort();
  const { receiver, base } = await liveReceiver(port);
  const tx = sender(port, codec, width, height, LATENCY_SECONDS + 5);
  const id = await streamId(base);
  const page = await browser.newPage({ viewport: { width: Math.max(1280, width + 80), height: height + 300 } });
  await page.goto(`${base}/`);
  await sleep(LATENCY_SECONDS * 1000);
  type Tile = { framesPainted: number; framesSkipped: number; paintLatencyMs: { p50?: number; p99?: number } };
  const tile = await page.evaluate(
    (key) => (globalThis as unknown as { udpcam: { tiles: Record<string, Tile> } }).udpcam.tiles[key],
    id,
  );
  await page.close();
  await stop(tx, receiver);
  const result = {
    codec,
    width,
    height,
    p50: tile?.paintLatencyMs.p50,
    p99: tile?.paintLatencyMs.p99,
    painted: tile?.framesPainted ?? 0,
    skipped: tile?.framesSkipped ?? 0,
  };
  log(
    `paint latency ${codec} ${width}x${height}: p50 ${result.p50} ms, p99 ${result.p99} ms (${result.painted} painted, ${result.skipped} skipped)`,
  );
  return result;
}

// ---------------------------------------------------------------- CPU per frame

/** A viewer that reads and discards: a WebSocket upgrade, then every byte drained. */
function drainingViewer(base: string, id: string): { socket: Socket; bytes: () => number } {
  const url = new URL(base);
  const socket = connect(Number(url.port), url.hostname);
  let bytes = 0;
  socket.write(
    `GET /streams/${id}/ws HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  socket.on("data", (chunk: Buffer) => (bytes += chunk.length));
  socket.on("error", () => {});
  return { socket, bytes: () => bytes };
}

function cpuTicks(pid: number): number {
  // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return Number(fields[11]) + Number(fields[12]);
}

async function framesDelivered(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(/^udpcam_receiver_frames_delivered_total (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
}

interface CpuResult {
  readonly codec: Codec;
  readonly viewers: number;
  readonly msPerFrame: number;
  readonly frames: number;
  readonly mbpsPerViewer: number;
}

async function cpuPerFrame(codec: Codec, viewers: number): Promise<CpuResult> {
  const port = await freePort();
  const { receiver, base } = await liveReceiver(port);
  const tx = sender(port, codec, 640, 480, CPU_WARMUP_SECONDS + CPU_SECONDS + 5);
  const id = await streamId(base);
  const clients = Array.from({ length: viewers }, () => drainingViewer(base, id));
  await sleep(CPU_WARMUP_SECONDS * 1000);
  const pid = receiver.child.pid ?? 0;
  const [ticks0, frames0, bytes0] = [
    cpuTicks(pid),
    await framesDelivered(base),
    clients.reduce((sum, c) => sum + c.bytes(), 0),
  ];
  await sleep(CPU_SECONDS * 1000);
  const [ticks1, frames1, bytes1] = [
    cpuTicks(pid),
    await framesDelivered(base),
    clients.reduce((sum, c) => sum + c.bytes(), 0),
  ];
  for (const client of clients) client.socket.destroy();
  await stop(tx, receiver);
  const frames = frames1 - frames0;
  const msPerFrame = (((ticks1 - ticks0) / CLOCK_TICKS_PER_SECOND) * 1000) / frames;
  const mbpsPerViewer = viewers === 0 ? 0 : ((bytes1 - bytes0) * 8) / CPU_SECONDS / 1e6 / viewers;
  log(
    `cpu ${codec} 640x480, ${viewers} viewers: ${msPerFrame.toFixed(2)} ms a frame over ${frames} frames, ${mbpsPerViewer.toFixed(1)} Mbit/s a viewer`,
  );
  return { codec, viewers, msPerFrame, frames, mbpsPerViewer };
}

// ---------------------------------------------------------------- report

const f1 = (v: number | undefined): string => (v === undefined ? "n/a" : v.toFixed(1));
const f0 = (v: number | undefined): string => (v === undefined ? "n/a" : v.toFixed(0));
const f2 = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : "n/a");

async function main(): Promise<void> {
  const startedAt = Date.now();
  const loadAtStart = loadavg();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--headless=new"] });
  const browserVersion = browser.version();
  const latencies: LatencyResult[][] = [];
  try {
    for (const [codec, width, height] of [
      ["jpeg", 640, 480],
      ["jpeg", 1280, 720],
      ["raw", 640, 480],
    ] as const) {
      const runs: LatencyResult[] = [];
      for (let run = 0; run < RUNS; run++) runs.push(await paintLatency(browser, codec, width, height));
      latencies.push(runs);
    }
  } finally {
    await browser.close();
  }
  const cpu: CpuResult[][] = [];
  for (const codec of ["jpeg", "raw"] as const) {
    for (const viewers of [0, 1, 10]) {
      const runs: CpuResult[] = [];
      for (let run = 0; run < RUNS; run++) runs.push(await cpuPerFrame(codec, viewers));
      cpu.push(runs);
    }
  }
  const mid = <T>(runs: readonly T[], pick: (run: T) => number | undefined): number | undefined =>
    median(runs.map(pick));

  const goal = latencies.find(([l]) => l?.codec === "jpeg" && l.width === 640) ?? [];
  const goalP99 = mid(goal, (l) => l.p99);
  const pass = goalP99 !== undefined && goalP99 < 50;
  const lines = [
    "# Live view: capture to paint, and the receiver's cost per viewer",
    "",
    `- Date: ${new Date().toISOString()}${quick ? " (**--quick run: short runs; not for comparison**)" : ""}; took ${((Date.now() - startedAt) / 1000).toFixed(0)} s`,
    `- Machine: ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}; load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(" ")}, at end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
    `- Browser: Debian's Chromium ${browserVersion}, headless (\`--headless=new\`), driven by playwright-core; Node ${process.version}`,
    `- Sender: the test pattern at ${FPS} fps on loopback, udpcam's defaults; receiver \`--output none --http 127.0.0.1:0\` (raw streams encoded for viewers at the default \`--http-quality 80\`).`,
    "",
    "## Capture to paint",
    "",
    `The page's own figure: \`Date.now()\` after the frame is drawn on the canvas (in a requestAnimationFrame callback, after \`createImageBitmap\`) minus the sender's capture time carried in the frame's message; percentiles over the last 600 frames painted after ${LATENCY_SECONDS} s of streaming (the first seconds, page load included, fall out of the window). Sender, receiver and browser share the machine's ${cpus().length} cores.`,
    "",
    `Medians of ${RUNS} run${RUNS === 1 ? "" : "s"}; "replaced" counts frames that arrived while the page was still decoding an older one (the page draws only the newest).`,
    "",
    "| stream | p50 ms | p99 ms | p99 per run | frames painted | replaced before painting |",
    "| --- | ---: | ---: | --- | ---: | ---: |",
    ...latencies.map((runs) => {
      const l = runs[0];
      const name =
        l === undefined
          ? "?"
          : `${l.codec === "jpeg" ? "JPEG" : "raw BGR (encoded for the page)"} ${l.width}x${l.height}`;
      return `| ${name} | ${f1(mid(runs, (r) => r.p50))} | ${f1(mid(runs, (r) => r.p99))} | ${runs.map((r) => f1(r.p99)).join(", ")} | ${f0(mid(runs, (r) => r.painted))} | ${f0(mid(runs, (r) => r.skipped))} |`;
    }),
    "",
    `Goal p99 under 50 ms at 640x480 JPEG: ${pass ? "**pass**" : "**miss**"} (${f1(goalP99)} ms). Peers: camera-streamer reports ~50 ms at 720p over Wi-Fi; MediaMTX users report 100-200 ms over WebRTC on a LAN.`,
    "",
    "## The receiver's CPU per frame, by viewers",
    "",
    `640x480 at ${FPS} fps; user + system CPU of the receiver process (\`/proc/PID/stat\`) over ${CPU_SECONDS} s after ${CPU_WARMUP_SECONDS} s of warm-up, divided by the frames delivered in that window. A viewer here is a WebSocket client that reads and discards everything (the server's work is the same as for a page). A raw stream is JPEG-encoded once per frame for all its viewers, only while one watches.`,
    "",
    "| stream | viewers | receiver CPU ms/frame | per run | frames a run | Mbit/s to each viewer |",
    "| --- | ---: | ---: | --- | ---: | ---: |",
    ...cpu.map((runs) => {
      const c = runs[0];
      if (c === undefined) return "| ? |";
      const mbps = mid(runs, (r) => r.mbpsPerViewer) ?? 0;
      return `| ${c.codec === "jpeg" ? "JPEG" : "raw BGR"} 640x480 | ${c.viewers} | ${f2(mid(runs, (r) => r.msPerFrame) ?? Number.NaN)} | ${runs.map((r) => f2(r.msPerFrame)).join(", ")} | ${f0(mid(runs, (r) => r.frames))} | ${c.viewers === 0 ? "-" : mbps.toFixed(1)} |`;
    }),
    "",
  ];
  lines.push(ANALYSIS_MARKER, "");
  writeReport(OUT, lines);
  log(`wrote ${OUT}`);
}

await runBench(main, log, killAllChildren);
