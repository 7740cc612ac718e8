// Soak: one sender and one receiver for a long run (default 30 minutes) of JPEG 640x480 at
// 25 fps through netsim with 1% loss in bursts (mean 4) and 1% reordering, recorded as MJPG in
// --segment-seconds files. The processes' resident memory is sampled all along and its trend
// given as a least-squares slope; every segment is checked while the next one is being written:
// it must decode (testkit's inspectRecording, and ffprobe counting the same frames), hold no
// torn frame, and every JPEG in it must be, byte for byte, what the sender made of that frame
// of the test pattern. Writes docs/benchmarks/soak.md.
// Usage: node dist/soak.js [--minutes M] [--segment-seconds S] [--sample-seconds S].
// A benchmark, not a test: a missed figure is written down, the exit code stays 0.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { decimal, integer, type OptionTable } from "@udpcam/appkit";
import {
  NETSIM_CLI,
  REPO_ROOT,
  ffprobeFrameCount,
  freePort,
  inspectRecording,
  judgeRecording,
  loopbackReceiveArgs,
  readReceiverStats,
  v1Counters,
  readSenderStats,
  sourceArgs,
  spawnChild,
  startReceiver,
  startSender,
  type Child,
  type RecordedFrame,
} from "@udpcam/testkit";
import { encodeJpeg, openJpegSource, renderPatternFrame } from "@udpcam/video";
import { readCommandLine } from "./options.js";
import { benchSession, runBench, writeReport } from "./report.js";

const SOAK_OPTIONS = {
  minutes: {
    schema: decimal(0.5, 24 * 60),
    default: 30,
    value: "M",
    help: "how long the sender sends (a shorter run is for trying the bench, not for its figures)",
  },
  segmentSeconds: {
    schema: integer(5, 3600),
    default: 60,
    value: "S",
    help: "the receiver's --segment-seconds: a new file this often",
  },
  sampleSeconds: {
    schema: decimal(0.5, 60),
    default: 5,
    value: "S",
    help: "how often the sender's and the receiver's resident memory is read",
  },
} satisfies OptionTable;

const options = readCommandLine("bench soak", SOAK_OPTIONS, {
  usage: "node tools/bench/dist/soak.js [--minutes M] [--segment-seconds S] [--sample-seconds S]",
  summary:
    "Soak: JPEG 640x480 at 25 fps through 1% bursty loss for --minutes, recorded in segments; memory slopes, torn frames\n" +
    "(bytes against the source) and every segment playable; writes docs/benchmarks/soak.md.",
  envPrefix: "BENCH",
});

const OUT = join(REPO_ROOT, "docs/benchmarks/soak.md");
const FPS = 25;
const WIDTH = 640;
const HEIGHT = 480;
const QUALITY = 80;
const FRAMES = Math.round(options.minutes * 60 * FPS);
const LINK = { loss: 0.01, burst: 4, reorder: 0.01, mtu: 1500, seed: 18 } as const;
const DATAGRAM_BYTES = 1472;
/** Samples from the first part of the run (start-up, caches, the JIT) are left out of the slope that counts. */
const WARM_UP_SECONDS = Math.min(300, options.minutes * 60 * 0.2);
/** What "flat" means here: a process that grows by less than this would take over 5 days to add 100 MB. */
const SLOPE_TARGET_MB_PER_HOUR = 1;

const { dir, log, cleanup } = benchSession("udpcam-bench-soak-", "bench soak");

/** Resident memory of a process (VmRSS), MB; undefined once it has gone (or before it has any). */
function rssMB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    const mb = match === null ? 0 : Number(match[1]) / 1024;
    return mb > 0 ? mb : undefined;
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds of a process so far (/proc/PID/stat, in clock ticks of 1/100 s). */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

interface Sample {
  readonly seconds: number;
  readonly senderMB: number;
  readonly receiverMB: number;
  readonly senderCpu: number | undefined;
  readonly receiverCpu: number | undefined;
  readonly netsimCpu: number | undefined;
}

/** Least-squares slope of y over x. */
function slope(points: readonly { readonly x: number; readonly y: number }[]): number | undefined {
  const n = points.length;
  if (n < 2) return undefined;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
  }
  return sxx === 0 ? undefined : sxy / sxx;
}

/** MB per hour of one process's samples from `fromSeconds` on. */
function slopeMBPerHour(
  samples: readonly Sample[],
  pick: (s: Sample) => number,
  fromSeconds: number,
): number | undefined {
  return slope(samples.filter((s) => s.seconds >= fromSeconds).map((s) => ({ x: s.seconds / 3600, y: pick(s) })));
}

interface SegmentCheck {
  readonly file: string;
  readonly frames: number;
  readonly ffprobeFrames: number | string;
  readonly intact: number;
  readonly torn: number;
  /** Frames whose JPEG bytes are not those the sender made of that pattern frame. */
  readonly bytesDiffer: number;
  /** Frames whose number could not be read. */
  readonly unnumbered: number;
  readonly numbers: readonly (number | undefined)[];
}

/** The JPEG the sender makes of pattern frame n: the test pattern encoded at the sender's quality. */
function expectedJpeg(n: number): Uint8Array {
  return encodeJpeg(renderPatternFrame(n, WIDTH, HEIGHT), QUALITY);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

async function checkSegment(file: string): Promise<SegmentCheck> {
  const frames: RecordedFrame[] = await inspectRecording(file);
  const verdict = judgeRecording(frames);
  let ffprobeFrames: number | string;
  try {
    ffprobeFrames = ffprobeFrameCount(file);
  } catch (error) {
    ffprobeFrames = error instanceof Error ? error.message.split("\n")[0]! : String(error);
  }
  let bytesDiffer = 0;
  let unnumbered = 0;
  const source = await openJpegSource({ kind: "file", path: file }, { pace: "asap" });
  if (source === undefined) throw new Error(`${file} does not store JPEG`);
  try {
    let index = 0;
    for await (const packet of source) {
      const number = frames[index++]?.number;
      if (number === undefined) unnumbered++;
      else if (!sameBytes(packet.jpeg, expectedJpeg(number))) bytesDiffer++;
    }
    if (index !== frames.length) bytesDiffer += Math.abs(frames.length - index);
  } finally {
    await source.close();
  }
  return {
    file,
    frames: frames.length,
    ffprobeFrames,
    intact: verdict.intact,
    torn: verdict.torn,
    bytesDiffer,
    unnumbered,
    numbers: frames.map((f) => f.number),
  };
}

function segmentFile(output: string, index: number): string {
  return output.replace(/\.avi$/, `-${String(index).padStart(3, "0")}.avi`);
}

function commit(): string {
  const result = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : "unknown";
}

const f1 = (v: number | undefined): string => (v === undefined ? "n/a" : v.toFixed(1));
const f2 = (v: number | undefined): string => (v === undefined ? "n/a" : v.toFixed(2));

async function main(): Promise<void> {
  const loadAtStart = loadavg();
  const startedIso = new Date().toISOString();
  const startCommit = commit();
  const port = await freePort();
  const output = join(dir, "soak.avi");
  const receiverStatsFile = join(dir, "receiver.json");
  const senderStatsFile = join(dir, "sender.json");
  const netsimStatsFile = join(dir, "netsim.json");
  const runMs = options.minutes * 60_000;
  const timeoutMs = runMs + 300_000;

  const receiver: Child = await startReceiver(
    [
      ...loopbackReceiveArgs(port, { output, fourcc: "MJPG", stats: receiverStatsFile, idleExit: 5 }),
      ...["--segment-seconds", String(options.segmentSeconds)],
    ],
    { timeoutMs },
  );
  const netsim = spawnChild(
    process.execPath,
    [
      NETSIM_CLI,
      ...["--listen", "127.0.0.1:0", "--target", `127.0.0.1:${port}`],
      ...["--loss", String(LINK.loss), "--burst", String(LINK.burst), "--reorder", String(LINK.reorder)],
      ...["--mtu", String(LINK.mtu), "--seed", String(LINK.seed), "--idle-exit", "5", "--stats", netsimStatsFile],
    ],
    { name: "netsim", timeoutMs },
  );
  const listening = await netsim.waitFor(/listening on [^\s]+:(\d+),/);
  const sender = startSender(
    [
      ...sourceArgs({ source: "test", codec: "jpeg", width: WIDTH, height: HEIGHT, fps: FPS, frames: FRAMES }),
      ...["--quality", String(QUALITY), "--host", "127.0.0.1", "--port", String(listening[1])],
      ...["--datagram-size", String(DATAGRAM_BYTES), "--stats", senderStatsFile, "--log-level", "warn"],
    ],
    { timeoutMs },
  );
  log(`${FRAMES} frames over ${options.minutes} min; segments of ${options.segmentSeconds} s in ${dir}`);

  const t0 = performance.now();
  const samples: Sample[] = [];
  let senderDone = false;
  void sender.exited.then(() => (senderDone = true));
  const sampler = (async () => {
    while (!senderDone) {
      const senderMB = rssMB(sender.child.pid);
      const receiverMB = rssMB(receiver.child.pid);
      if (senderMB !== undefined && receiverMB !== undefined)
        samples.push({
          seconds: (performance.now() - t0) / 1000,
          senderMB,
          receiverMB,
          senderCpu: cpuSeconds(sender.child.pid),
          receiverCpu: cpuSeconds(receiver.child.pid),
          netsimCpu: cpuSeconds(netsim.child.pid),
        });
      await sleep(options.sampleSeconds * 1000);
    }
  })();

  // Segment k is closed once segment k+1 exists: check it while the run goes on.
  const checks: SegmentCheck[] = [];
  let nextSegment = 0;
  let lastReport = 0;
  while (!senderDone) {
    if (existsSync(segmentFile(output, nextSegment + 1))) {
      checks.push(await checkSegment(segmentFile(output, nextSegment)));
      nextSegment++;
    } else {
      await sleep(1000);
    }
    const minute = Math.floor((performance.now() - t0) / 60_000);
    if (minute > lastReport) {
      lastReport = minute;
      const last = samples.at(-1);
      log(
        `${minute} min: ${checks.length} segment(s) checked, RSS sender ${f1(last?.senderMB)} MB, receiver ${f1(last?.receiverMB)} MB`,
      );
    }
  }
  await sampler;
  const senderExit = await sender.exited;
  const receiverExit = await receiver.exited;
  netsim.signal("SIGINT");
  const netsimExit = await netsim.exited;
  const receiverStats = readReceiverStats(receiverStatsFile);
  const senderStats = readSenderStats(senderStatsFile);
  const link = JSON.parse(readFileSync(netsimStatsFile, "utf8")) as Record<string, unknown>;
  for (const file of receiverStats.files.slice(nextSegment)) checks.push(await checkSegment(file));
  const wallSeconds = (performance.now() - t0) / 1000;
  const loadAtEnd = loadavg();

  const all = checks.flatMap((c) => c.numbers);
  let outOfOrder = 0;
  const seen = new Set<number>();
  let repeated = 0;
  for (let i = 0; i < all.length; i++) {
    const n = all[i];
    if (n === undefined) continue;
    if (seen.has(n)) repeated++;
    seen.add(n);
    const previous = all[i - 1];
    if (previous !== undefined && n <= previous) outOfOrder++;
  }
  const sum = (pick: (c: SegmentCheck) => number): number => checks.reduce((s, c) => s + pick(c), 0);
  const recorded = sum((c) => c.frames);
  const intact = sum((c) => c.intact);
  const torn = sum((c) => c.torn);
  const bytesDiffer = sum((c) => c.bytesDiffer);
  const unnumbered = sum((c) => c.unnumbered);
  const unplayable = checks.filter((c) => c.ffprobeFrames !== c.frames || c.frames === 0);

  const senderSlope = slopeMBPerHour(samples, (s) => s.senderMB, WARM_UP_SECONDS);
  const receiverSlope = slopeMBPerHour(samples, (s) => s.receiverMB, WARM_UP_SECONDS);
  const peak = (pick: (s: Sample) => number): number | undefined =>
    samples.length === 0 ? undefined : Math.max(...samples.map(pick));
  const after = samples.filter((s) => s.seconds >= WARM_UP_SECONDS);
  const range = (pick: (s: Sample) => number): string =>
    after.length === 0 ? "n/a" : `${f1(Math.min(...after.map(pick)))}-${f1(Math.max(...after.map(pick)))}`;
  const flat = (v: number | undefined): string =>
    v === undefined ? "n/a" : Math.abs(v) <= SLOPE_TARGET_MB_PER_HOUR ? "pass" : "miss";
  const pass = (ok: boolean): string => (ok ? "pass" : "miss");

  const lines: string[] = [];
  const push = (...more: string[]): void => void lines.push(...more);
  const lastSample = samples.at(-1);
  const share = (cpu: number | undefined): string =>
    cpu === undefined || lastSample === undefined ? "n/a" : `${((100 * cpu) / lastSample.seconds).toFixed(0)}%`;
  push(`# Soak: ${options.minutes} minutes through bursty loss`, "");
  push(
    `Generated by \`node tools/bench/dist/soak.js --minutes ${options.minutes} --segment-seconds ${options.segmentSeconds}\`, started ${startedIso.slice(0, 16).replace("T", " ")} UTC: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}. Load average (1, 5, 15 min) at start ${loadAtStart.map((l) => l.toFixed(2)).join(" ")}, at end ${loadAtEnd.map((l) => l.toFixed(2)).join(" ")} (other work shared the machine). CPU of one core over the run: sender ${share(lastSample?.senderCpu)}, receiver ${share(lastSample?.receiverCpu)}, netsim ${share(lastSample?.netsimCpu)}. Commit ${startCommit}.`,
    "",
    `One udpcam sender (test pattern, \`--codec jpeg --quality ${QUALITY}\`, ${WIDTH}x${HEIGHT}, ${FPS} fps, ${FRAMES} frames, \`--datagram-size ${DATAGRAM_BYTES}\`, the default \`--fec auto\`) sends through netsim (\`--loss ${LINK.loss} --burst ${LINK.burst} --reorder ${LINK.reorder} --mtu ${LINK.mtu} --seed ${LINK.seed}\`) to one receiver (\`--fourcc MJPG --segment-seconds ${options.segmentSeconds}\`, no window). Resident memory (VmRSS) of both processes read every ${options.sampleSeconds} s; the slope is a least-squares fit over the samples after the first ${WARM_UP_SECONDS.toFixed(0)} s (start-up). Each segment is checked as soon as the next one exists: testkit's \`inspectRecording\` decodes it and judges every frame by its pixels, ffprobe must count the same frames, and each stored JPEG must equal byte for byte the JPEG of that pattern frame at quality ${QUALITY} (what the sender made of it).`,
    "",
    "| what | measured | target | |",
    "| --- | ---: | ---: | --- |",
    `| wall time | ${(wallSeconds / 60).toFixed(1)} min | ≥ 30 min | ${pass(wallSeconds >= 30 * 60)} |`,
    `| sender RSS slope | ${f2(senderSlope)} MB/h | ±${SLOPE_TARGET_MB_PER_HOUR} MB/h | ${flat(senderSlope)} |`,
    `| receiver RSS slope | ${f2(receiverSlope)} MB/h | ±${SLOPE_TARGET_MB_PER_HOUR} MB/h | ${flat(receiverSlope)} |`,
    `| sender RSS after start-up (min-max), peak | ${range((s) => s.senderMB)} MB, ${f1(peak((s) => s.senderMB))} MB | | |`,
    `| receiver RSS after start-up (min-max), peak | ${range((s) => s.receiverMB)} MB, ${f1(peak((s) => s.receiverMB))} MB | | |`,
    `| frames sent / recorded / intact | ${senderStats.framesSent} / ${recorded} / ${intact} (${((100 * intact) / Math.max(1, senderStats.framesSent)).toFixed(2)}%) | | |`,
    `| torn frames (pixels) | ${torn} | 0 | ${pass(torn === 0)} |`,
    `| frames whose bytes differ from the source | ${bytesDiffer} (unreadable number: ${unnumbered}) | 0 | ${pass(bytesDiffer === 0 && unnumbered === 0)} |`,
    `| frames repeated / out of order across segments | ${repeated} / ${outOfOrder} | 0 / 0 | ${pass(repeated === 0 && outOfOrder === 0)} |`,
    `| segments playable (decoded, ffprobe agrees) | ${checks.length - unplayable.length} of ${checks.length} | all | ${pass(unplayable.length === 0 && checks.length > 0)} |`,
    "",
    `Receiver: ${receiverStats.datagramsReceived} datagrams, ${receiverStats.framesComplete} frames complete (${receiverStats.framesRecovered} rebuilt by per-frame FEC, ${v1Counters(receiverStats).sourcesRecovered} datagrams rebuilt by window FEC), ${receiverStats.framesDropped} dropped as unrecoverable, ${receiverStats.framesRecorded} recorded, ${receiverStats.files.length} files. Sender: ${senderStats.datagramsSent} datagrams. Link: ${JSON.stringify(link)}. Exit codes: sender ${senderExit}, receiver ${receiverExit}, netsim ${netsimExit}.`,
    "",
    "Memory over time (MB, every tenth of the run):",
    "",
    "| minute | sender RSS | receiver RSS |",
    "| ---: | ---: | ---: |",
  );
  for (let i = 0; i <= 10; i++) {
    const s = samples[Math.min(samples.length - 1, Math.round((i * (samples.length - 1)) / 10))];
    if (s !== undefined) push(`| ${(s.seconds / 60).toFixed(1)} | ${f1(s.senderMB)} | ${f1(s.receiverMB)} |`);
  }
  if (unplayable.length > 0) {
    push("", "Segments that did not check out:", "");
    for (const c of unplayable) push(`- ${c.file}: ${c.frames} frames decoded, ffprobe: ${c.ffprobeFrames}`);
  }
  push("");
  writeReport(OUT, lines);
  log(`wrote ${OUT}`);
}

await runBench(main, log, cleanup);
