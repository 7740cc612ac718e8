// The original server as users run it: the seed's seed_server.py with the system's default
// receive buffer (four of its 46 KB datagrams), fed 250 frames at 25 fps on loopback by
// udpcam's legacy sender and, into the same server in the same run, by the seed's own client
// (as adapted: 20 datagrams back to back; and with --waitkey-sleep, the 1 ms the original's
// waitKey(1) sleeps after each datagram). The server runs unchanged under seed_timing.py,
// which clocks what it does between two reads. With no display (as tools/e2e runs it) and,
// where Xvfb exists, with its window shown. Writes docs/benchmarks/seed-server.md.
// Usage: node dist/seed-server.js [--quick]. A benchmark: a miss is written down, exit code 0.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cpus, loadavg, release } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { LEGACY_FRAME_HEIGHT, LEGACY_FRAME_WIDTH } from "@udpcam/protocol";
import {
  REPO_ROOT,
  SEED_CLIENT,
  SEED_SERVER,
  SYSTEM_PYTHON,
  freePort,
  inspectRecording,
  isIntact,
  senderArgv,
  sourceArgs,
  spawnChild,
  waitForFile,
  writePatternClip,
} from "@udpcam/testkit";
import { probeDisplay } from "@udpcam/video";
import { readQuick } from "./options.js";
import { benchSession, ANALYSIS_MARKER, runBench, writeReport } from "./report.js";
import { median } from "./summary.js";

const quick = readQuick(
  "bench seed-server",
  {
    usage: "node tools/bench/dist/seed-server.js [--quick]",
    summary:
      "The seed's server with the default receive buffer, fed by udpcam's legacy sender and by the seed's own client; writes docs/benchmarks/seed-server.md.",
  },
  "one run per row instead of five (figures not for comparison)",
);

const OUT = join(REPO_ROOT, "docs/benchmarks/seed-server.md");
const TIMING = join(REPO_ROOT, "tools/bench/seed_timing.py");
const RUNS = quick ? 1 : 5;
const FRAMES = 250;
const FPS = 25;
/** The bar for udpcam's sender into this server on a quiet machine: torn frames per 250. */
const TORN_TARGET = 1;

let xvfb: ChildProcess | undefined;
const { dir, log, cleanup } = benchSession("udpcam-bench-seed-server-", "bench seed-server", () =>
  xvfb?.kill("SIGKILL"),
);

type Feeder = "udpcam" | "seed" | "seed-waitkey";
const FEEDERS: Record<Feeder, string> = {
  udpcam: "udpcam sender `--protocol legacy` (paced)",
  seed: "seed client (20 datagrams back to back)",
  "seed-waitkey": "seed client `--waitkey-sleep` (1 ms after each datagram, as the original's waitKey(1))",
};

interface Run {
  readonly written: number;
  readonly intact: number;
  /** Written but not intact: parts of two frames, or a slot left from an earlier one. */
  readonly torn: number;
  readonly datagrams: number;
  readonly busyMs: readonly number[];
  readonly writeMs: readonly number[];
  readonly showMs: readonly number[];
}

interface Timing {
  readonly busyMs: number[];
  readonly writeMs: number[];
  readonly imshowMs: number[];
  readonly waitKeyMs: number[];
}

async function runOnce(feeder: Feeder, clip: string, display: string | undefined, index: number): Promise<Run> {
  const port = await freePort();
  const output = join(dir, `${feeder}-${display ?? "none"}-${index}.avi`);
  const ready = `${output}.ready`;
  const times = `${output}.json`;
  const server = spawnChild(
    SYSTEM_PYTHON,
    [TIMING, times, SEED_SERVER, "--port", String(port), "--output", output, "--idle-exit", "1.5"].concat([
      "--ready-file",
      ready,
    ]),
    { name: "seed_server", env: { DISPLAY: display }, timeoutMs: 120_000 },
  );
  await waitForFile(ready, 20_000);
  const sender =
    feeder === "udpcam"
      ? spawnChild(
          process.execPath,
          senderArgv([
            ...sourceArgs({ source: "test", fps: FPS, frames: FRAMES }),
            ...["--protocol", "legacy", "--host", "127.0.0.1", "--port", String(port)],
          ]),
          { name: "sender", timeoutMs: 120_000 },
        )
      : spawnChild(
          SYSTEM_PYTHON,
          [
            SEED_CLIENT,
            ...["--source", clip, "--port", String(port), "--fps", String(FPS), "--frames", String(FRAMES)],
            ...(feeder === "seed-waitkey" ? ["--waitkey-sleep"] : []),
          ],
          { name: "seed_client", timeoutMs: 120_000 },
        );
  await sender.exited;
  await server.exited;
  const counts = JSON.parse(server.stdout().trim().split("\n").at(-1) ?? "{}") as { datagramsReceived?: number };
  const frames = await inspectRecording(output, { tolerateCutOff: true });
  const intact = frames.filter(isIntact).length;
  const timing = existsSync(times)
    ? (JSON.parse(readFileSync(times, "utf8")) as Timing)
    : { busyMs: [], writeMs: [], imshowMs: [], waitKeyMs: [] };
  return {
    written: frames.length,
    intact,
    torn: frames.length - intact,
    datagrams: counts.datagramsReceived ?? 0,
    busyMs: timing.busyMs,
    writeMs: timing.writeMs,
    showMs: timing.imshowMs.map((ms, i) => ms + (timing.waitKeyMs[i] ?? 0)),
  };
}

function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

const f1 = (v: number | undefined): string => (v === undefined ? "n/a" : v.toFixed(1));
const msCell = (values: readonly number[]): string =>
  values.length === 0
    ? "n/a"
    : `${f1(percentile(values, 0.5))} / ${f1(percentile(values, 0.99))} / ${f1(Math.max(...values))}`;

/** An Xvfb display for the window, or undefined when there is none to be had. */
async function startXvfb(): Promise<string | undefined> {
  if (spawnSync("sh", ["-c", "command -v Xvfb"]).status !== 0) return undefined;
  for (let n = 90; n < 100; n++) {
    if (existsSync(`/tmp/.X11-unix/X${n}`)) continue;
    const display = `:${n}`;
    xvfb = spawn("Xvfb", [display, "-screen", "0", "1024x768x24", "-nolisten", "tcp"], { stdio: "ignore" });
    for (let waited = 0; waited < 10_000; waited += 200) {
      await sleep(200);
      if ((await probeDisplay(display)).available) return display;
    }
    xvfb.kill("SIGKILL");
    return undefined;
  }
  return undefined;
}

async function main(): Promise<void> {
  const loadAtStart = loadavg();
  const startedIso = new Date().toISOString();
  const clip = join(dir, "clip.avi");
  await writePatternClip(clip, { width: LEGACY_FRAME_WIDTH, height: LEGACY_FRAME_HEIGHT, frames: FRAMES });
  const display = await startXvfb();
  const conditions: { label: string; display: string | undefined }[] = [{ label: "no display", display: undefined }];
  if (display !== undefined) conditions.push({ label: "window (Xvfb)", display });

  const rows: string[] = [];
  const timingRows: string[] = [];
  const cells = conditions.flatMap((condition) =>
    (Object.keys(FEEDERS) as Feeder[]).map((feeder) => ({ condition, feeder, runs: [] as Run[] })),
  );
  // Run by run across the rows, so that a load that changes during the bench weighs on every
  // row alike (the load is written down with the figures).
  for (let i = 0; i < RUNS; i++) {
    for (const cell of cells) {
      log(`run ${i + 1}/${RUNS}: ${cell.condition.label}, ${cell.feeder}`);
      cell.runs.push(await runOnce(cell.feeder, clip, cell.condition.display, i));
    }
  }
  let ours: Run[] = [];
  for (const { condition, feeder, runs } of cells) {
    if (feeder === "udpcam" && condition.display === undefined) ours = runs;
    const torn = runs.map((r) => r.torn);
    rows.push(
      `| ${condition.label} | ${FEEDERS[feeder]} | ${runs.map((r) => r.intact).join(", ")} | ${torn.join(", ")} | ${runs.map((r) => FRAMES - r.written).join(", ")} | ${f1(median(runs.map((r) => r.datagrams)))} | ${(torn.reduce((a, b) => a + b, 0) / runs.length).toFixed(1)} |`,
    );
    const all = (pick: (r: Run) => readonly number[]): number[] => runs.flatMap(pick);
    timingRows.push(
      `| ${condition.label} | ${FEEDERS[feeder]} | ${msCell(all((r) => r.busyMs))} | ${msCell(all((r) => r.writeMs))} | ${condition.display === undefined ? "none" : msCell(all((r) => r.showMs))} |`,
    );
  }
  const loadAtEnd = loadavg();
  const oursTorn = ours.reduce((a, r) => a + r.torn, 0) / Math.max(1, ours.length);

  const lines: string[] = [];
  const push = (...more: string[]): void => void lines.push(...more);
  push("# The original server as users run it", "");
  push(
    `Generated by \`node tools/bench/dist/seed-server.js${quick ? " --quick" : ""}\`, started ${startedIso.slice(0, 16).replace("T", " ")} UTC: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Linux ${release()}, Node ${process.version}. Load average (1, 5, 15 min) at start ${loadAtStart.map((l) => l.toFixed(2)).join(" ")}, at end ${loadAtEnd.map((l) => l.toFixed(2)).join(" ")}.`,
    "",
    `The seed's \`seed_server.py\` (tools/seed) with the system's default receive buffer (\`net.core.rmem_default\`, ${readRmemDefault()} bytes: four of its 46,081-byte datagrams on loopback), ${RUNS} run(s) of ${FRAMES} frames at ${FPS} fps per row, taken run by run across the rows, the same server fed three ways. Every recording is decoded and judged by its pixels (testkit): *intact* = its number reads the same at top and bottom and every band (one datagram's 24 rows) matches the source frame above 18 dB; *torn* = written but not intact (a slot lost and left from an earlier frame, or two frames joined); *not written* = a frame whose slot 19 never arrived. The seed's client reads an MJPG clip of the same pattern.`,
    "",
    "| server | fed by | intact per run | torn per run | not written per run | datagrams read (median) | torn per 250 (mean) |",
    "| --- | --- | --- | --- | --- | ---: | ---: |",
    ...rows,
    "",
    `**udpcam's sender into the server as written, no display: ${oursTorn.toFixed(1)} torn frames per ${FRAMES} (target at most ${TORN_TARGET} on a quiet machine): ${oursTorn <= TORN_TARGET ? "pass" : "miss"}** at this load.`,
    "",
    "What the server does between two reads (ms, p50 / p99 / max over every frame of the row's runs): *busy* is from the return of the read of slot 19 to the next read (the join of the 20 slots, the write, the window); *write* is `VideoWriter.write` (DIVX); *imshow + waitKey(1)* is the window's part. Clocked by `tools/bench/seed_timing.py`, which runs the server unchanged and wraps those calls.",
    "",
    "| server | fed by | busy after slot 19 | write | imshow + waitKey(1) |",
    "| --- | --- | ---: | ---: | ---: |",
    ...timingRows,
    "",
    ANALYSIS_MARKER,
    "",
  );
  writeReport(OUT, lines);
  log(`wrote ${OUT}`);
}

function readRmemDefault(): string {
  try {
    return readFileSync("/proc/sys/net/core/rmem_default", "utf8").trim();
  } catch {
    return "unknown";
  }
}

await runBench(main, log, cleanup);
