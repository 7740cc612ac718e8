// The receiver's costs (issue 16), side by side with the peers in one run: memory recording one JPEG stream as
// MJPG, a recording server of 8 JPEG streams against 1, raw 640x480 into DIVX against the seed's server, and JPEG
// recorded as MJPG against GStreamer. Writes docs/benchmarks/receiver.md.
// Usage: node dist/receiver.js [--quick]. A benchmark, not a test: a missed target is written down, the exit code stays 0.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  REPO_ROOT,
  RECEIVER_LISTENING,
  freePort,
  readReceiverStats,
  receiverArgv,
  senderArgv,
  writePatternClip,
} from "@udpcam/testkit";
import { BENCH_HELP, BENCH_OPTIONS, readCommandLine } from "./options.js";
import { IMPLS, type Impl } from "./peers.js";
import { finish, start } from "./proc.js";
import { benchSession, ANALYSIS_MARKER, runBench, writeReport } from "./report.js";
import { highestRate, measure, type BenchSetup, type RateResult } from "./runs.js";
import type { Summary } from "./summary.js";

const { quick } = readCommandLine("bench", BENCH_OPTIONS, BENCH_HELP);
const RUNS = quick ? 1 : 3;
const FRAMES = quick ? 100 : 250;
const RATE_FRAMES = quick ? 150 : 600;
const SERVER_STREAMS = 8;
const OUT = join(REPO_ROOT, "docs/benchmarks/receiver.md");
const MIB = 1 << 20;

const { dir, log, cleanup } = benchSession("udpcam-bench-rx-", "bench receiver");
const startedAt = Date.now();
const setup: BenchSetup = {
  dir,
  runs: RUNS,
  progress: (line) => log(`${((Date.now() - startedAt) / 1000).toFixed(0)} s ${line}`),
};

/** The default --fourcc auto: JPEG stored as it arrives (no receiver argument). */
const oursJpegAuto: Impl = {
  ...IMPLS["ours-jpeg"],
  label: "udpcam JPEG q80 (default --fourcc auto: stored as MJPG as it arrives)",
  receiverArgs: [],
};

function ownRssKiB(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Resident memory of a process and every process under it, KiB (0 once gone). */
function treeRssKiB(pid: number): number {
  let total = 0;
  try {
    total += ownRssKiB(pid);
    for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/))
      if (child !== "") total += treeRssKiB(Number(child));
  } catch {
    // gone meanwhile
  }
  return total;
}

interface ServerRun {
  readonly streams: number;
  readonly sent: number;
  readonly recorded: number;
  readonly receiverCpuMsPerFrame: number | undefined;
  /** The receiver's own maxrss (its --stats), MiB. */
  readonly ownPeakMiB: number | undefined;
  /** Receiver and its children, sampled every 50 ms, MiB. */
  readonly treePeakMiB: number;
}

/** One receiver (--streams separate, MJPG), `streams` senders of the 640x480 JPEG clip at 25 fps, at once. */
async function recordingServer(clip: string, streams: number): Promise<ServerRun> {
  const tag = `server-${streams}-${Date.now()}`;
  const port = await freePort();
  const statsFile = join(dir, `${tag}.json`);
  const receiver = start(
    "receiver",
    process.execPath,
    receiverArgv([
      ...["--host", "127.0.0.1", "--port", String(port), "--output", join(dir, `${tag}.avi`), "--fourcc", "MJPG"],
      ...["--streams", "separate", "--max-streams", String(SERVER_STREAMS)],
      ...["--max-streams-per-source", String(SERVER_STREAMS), "--stats", statsFile, "--idle-exit", "30"],
    ]),
    { timeoutMs: 120_000, usageFile: join(dir, `${tag}-rx.time`), cwd: dir },
  );
  await receiver.waitFor(RECEIVER_LISTENING);
  // GNU time is the child; the receiver is its child.
  const timePid = receiver.child.pid ?? 0;
  let treePeak = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      treePeak = Math.max(treePeak, treeRssKiB(timePid) - ownRssKiB(timePid));
      await sleep(50);
    }
  })();
  const senders = Array.from({ length: streams }, (_, i) =>
    start(
      "sender",
      process.execPath,
      senderArgv([
        ...["--source", clip, "--fps", "25", "--frames", String(FRAMES), "--codec", "jpeg"],
        ...["--host", "127.0.0.1", "--port", String(port)],
      ]),
      { timeoutMs: 120_000, usageFile: join(dir, `${tag}-tx-${i}.time`), cwd: dir },
    ),
  );
  await Promise.all(senders.map((sender) => sender.exited));
  await finish(receiver, 1500);
  sampling = false;
  await sampler;
  const stats = readReceiverStats(statsFile);
  const cpu = receiver.usage()?.cpuSeconds;
  const sent = streams * FRAMES;
  rmSync(join(dir, tag), { recursive: true, force: true });
  execFileSync("sh", ["-c", `rm -f '${dir}'/${tag}*`]);
  const run = {
    streams,
    sent,
    recorded: stats.framesRecorded,
    receiverCpuMsPerFrame: cpu === undefined ? undefined : (1000 * cpu) / sent,
    ownPeakMiB: stats.resources.peakRssBytes / MIB,
    treePeakMiB: treePeak / 1024,
  };
  setup.progress(
    `server ${streams} streams: ${run.recorded}/${sent} recorded, ${run.receiverCpuMsPerFrame?.toFixed(2)} ms/frame, tree ${run.treePeakMiB.toFixed(0)} MiB`,
  );
  return run;
}

/** The receiver's own peak (--stats resources), median of the runs, MiB. */
function ownPeakMiB(summary: Summary): number | undefined {
  const values = summary.runs
    .map((r) => r.receiverOwnPeakBytes)
    .filter((v): v is number => v !== undefined)
    .sort((a, b) => a - b);
  const mid = values[Math.floor(values.length / 2)];
  return mid === undefined ? undefined : mid / MIB;
}

const f1 = (v: number | undefined): string => (v === undefined ? "n/a" : v.toFixed(1));
const f2 = (v: number | undefined): string => (v === undefined ? "n/a" : v.toFixed(2));
const mark = (pass: boolean): string => (pass ? "**pass**" : "**miss**");
const atMost = (a: number | undefined, b: number | undefined): boolean => a !== undefined && b !== undefined && a <= b;

function version(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: "utf8", timeout: 10_000 }).trim().split("\n")[0] ?? "?";
  } catch {
    return "?";
  }
}

async function main(): Promise<void> {
  const loadAtStart = loadavg();
  const clip = join(dir, "clip-640x480.avi");
  await writePatternClip(clip, { width: 640, height: 480, frames: Math.max(FRAMES, RATE_FRAMES) });
  const at25 = { clip, width: 640, height: 480, fps: 25, frames: FRAMES, loss: undefined, record: true } as const;

  // JPEG recorded as MJPG at 25 fps: memory (default auto and explicit MJPG), CPU against GStreamer.
  const jpegAuto = await measure(setup, { ...at25, impl: oursJpegAuto });
  const jpegMjpg = await measure(setup, { ...at25, impl: IMPLS["ours-jpeg"] });
  const gstJpeg = await measure(setup, { ...at25, impl: IMPLS["gst-jpeg"] });
  // Raw 640x480 into DIVX at 25 fps: CPU against the seed's server (8 MB buffer).
  const rawOurs = await measure(setup, { ...at25, impl: IMPLS["ours-raw"] });
  const rawSeed = await measure(setup, { ...at25, impl: IMPLS["seed-8mb"] });
  // The recording server: 1 and 8 streams, same run.
  const one = await recordingServer(clip, 1);
  const eight = await recordingServer(clip, SERVER_STREAMS);
  // Sustained raw rate into DIVX, every frame intact.
  const rates: RateResult[] = [];
  for (const impl of [IMPLS["ours-raw"], IMPLS["seed-8mb"]])
    rates.push(await highestRate(setup, impl, clip, 640, 480, RATE_FRAMES));
  const [rateOurs, rateSeed] = rates;

  const lines: string[] = [];
  const push = (...more: string[]): void => void lines.push(...more);
  const clean = (s: Summary): string => `${s.intact}/${s.sent} intact, ${s.torn} torn`;
  push(
    "# The receiver: memory and CPU per frame, against the peers in the same run",
    "",
    `- Date: ${new Date(startedAt).toISOString()}; this bench took ${((Date.now() - startedAt) / 1000).toFixed(0)} s`,
    `- Machine: ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}`,
    `- Load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(" ")}, at end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} (2 cores: above 2 the machine was shared; compare rows of this run)`,
    `- Versions: udpcam ${version("git", ["-C", REPO_ROOT, "rev-parse", "--short", "HEAD"])}; Node ${process.version}; ${version("gst-launch-1.0", ["--version"])}`,
    `- ${RUNS === 1 ? "One run" : `Median of ${RUNS} runs`} per row (the rate search: ${RUNS} runs a step, the same rule as end-to-end.md); ${FRAMES} frames of the 640x480 test-pattern clip at 25 fps, plain loopback. CPU: user + system of the whole receiver process from GNU time, process start and its encoder processes included, per frame sent. "Own peak": the receiver process's maxrss from its --stats (\`resources.peakRssBytes\`), its encoder processes not included; GNU time's figure is the largest of the process and its children.`,
    "",
    "## Targets",
    "",
    "| target | result | evidence |",
    "| --- | --- | --- |",
    `| receiver peak memory recording one JPEG stream as MJPG, no window, no viewer: under 80 MiB | ${mark((ownPeakMiB(jpegAuto) ?? 999) < 80 && (ownPeakMiB(jpegMjpg) ?? 999) < 80)} | own peak ${f1(ownPeakMiB(jpegAuto))} MiB with the default --fourcc auto, ${f1(ownPeakMiB(jpegMjpg))} MiB with --fourcc MJPG (GNU time, children included: ${f1(jpegAuto.receiverPeakMiB)} / ${f1(jpegMjpg.receiverPeakMiB)}); ${clean(jpegAuto)} |`,
    `| recording server, 8 JPEG streams, MJPG: every frame recorded, receiver RSS (with children) under 150 MiB, CPU per frame no higher than 1 stream's | ${mark(eight.recorded === eight.sent && eight.treePeakMiB < 150 && atMost(eight.receiverCpuMsPerFrame, one.receiverCpuMsPerFrame))} | 8 streams: ${eight.recorded}/${eight.sent} recorded, ${f1(eight.treePeakMiB)} MiB, ${f2(eight.receiverCpuMsPerFrame)} ms/frame; 1 stream: ${one.recorded}/${one.sent}, ${f1(one.treePeakMiB)} MiB, ${f2(one.receiverCpuMsPerFrame)} ms/frame (bytes intact: tools/e2e recording-server.slow.test.ts) |`,
    `| raw 640x480 into DIVX: receiver CPU per frame at most the seed's (8 MB buffer) | ${mark(atMost(rawOurs.receiverMsPerFrame, rawSeed.receiverMsPerFrame))} | at 25 fps: udpcam ${f2(rawOurs.receiverMsPerFrame)} ms (${clean(rawOurs)}), seed ${f2(rawSeed.receiverMsPerFrame)} ms (${clean(rawSeed)}) |`,
    `| raw 640x480 into DIVX: sustained rate, every frame intact, at least the seed's | ${mark(rateOurs?.sustained !== undefined && (rateSeed?.sustained === undefined || rateOurs.sustained.fps >= rateSeed.sustained.fps))} | ${[rateOurs, rateSeed].map((r) => (r === undefined ? "" : `${r.impl.id}: ${r.sustained === undefined ? `none (tried ${r.tried.map((t) => (t === 0 ? "flat out" : t)).join(", ")})` : `${r.sustained.fps.toFixed(0)} fps${r.sustained.aimed ? ` (paced at ${r.sustained.aimed})` : " (flat out)"}, ${f2(r.sustained.summary.receiverMsPerFrame)} ms/frame`}; flat out ${r.flatOut.intact}/${r.flatOut.sent}`)).join("; ")} |`,
    `| JPEG recorded as MJPG: receiver CPU per frame at most GStreamer's | ${mark(atMost(jpegMjpg.receiverMsPerFrame, gstJpeg.receiverMsPerFrame))} | at 25 fps: udpcam ${f2(jpegMjpg.receiverMsPerFrame)} ms (default auto ${f2(jpegAuto.receiverMsPerFrame)}), GStreamer ${f2(gstJpeg.receiverMsPerFrame)} ms (${clean(gstJpeg)}; it decodes and writes raw BGR into Matroska) |`,
    "",
    "## Rows",
    "",
    "| row | intact / sent | torn | receiver CPU ms/frame | receiver peak MiB (GNU time) | own peak MiB |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const [name, s] of [
    [oursJpegAuto.label, jpegAuto],
    [IMPLS["ours-jpeg"].label, jpegMjpg],
    [IMPLS["gst-jpeg"].label, gstJpeg],
    [`${IMPLS["ours-raw"].label}, recorded as DIVX (auto)`, rawOurs],
    [IMPLS["seed-8mb"].label, rawSeed],
  ] as const)
    push(
      `| ${name} | ${s.intact} / ${s.sent} | ${s.torn} | ${f2(s.receiverMsPerFrame)} | ${f1(s.receiverPeakMiB)} | ${f1(ownPeakMiB(s))} |`,
    );
  push(
    "",
    "Node's own floor on this machine, for the memory row: an empty `node -e ''` peaks at about 39 MiB, the same with one idle worker thread at about 51 MiB (measured by hand with GNU time, 2026-12-02).",
    "",
    ANALYSIS_MARKER,
    "",
  );
  writeReport(OUT, lines);
  log(`wrote ${OUT}`);
}

await runBench(main, log, cleanup);
