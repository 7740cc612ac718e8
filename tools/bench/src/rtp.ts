// RTP/JPEG alone: the rows of the end-to-end loss matrix that compare udpcam over RTP/JPEG
// (RFC 2435, no FEC) with GStreamer's rtpjpegpay/rtpjpegdepay and with udpcam v1 (FEC 10%),
// same clip, same netsim link, so that they can be run without the whole benchmark. Writes
// docs/benchmarks/rtp.md. Usage: node dist/rtp.js [--quick].
// A benchmark, not a test: a missed figure is written down, the exit code stays 0.
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT, killAllChildren, writePatternClip } from "@udpcam/testkit";
import { readQuick } from "./options.js";
import { IMPLS, NETSIM_SEED, type ImplId } from "./peers.js";
import { ANALYSIS_MARKER, writeReport } from "./report.js";
import { measure, type BenchSetup } from "./runs.js";
import type { Summary } from "./summary.js";

const quick = readQuick(
  "bench rtp",
  {
    usage: "node tools/bench/dist/rtp.js [--quick]",
    summary:
      "udpcam RTP/JPEG against GStreamer RTP/JPEG and udpcam v1 through netsim at 0, 0.2% and 1% loss; writes docs/benchmarks/rtp.md.",
  },
  "one run each and short clips (figures not for comparison)",
);

const OUT = join(REPO_ROOT, "docs/benchmarks/rtp.md");
const RUNS = quick ? 1 : 3;
const FRAMES = quick ? 50 : 150;
const LOSSES = [0, 0.002, 0.01];
const IMPL_IDS: readonly ImplId[] = ["ours-rtp", "gst-jpeg", "ours-jpeg-1472"];

const dir = mkdtempSync(join(tmpdir(), "udpcam-bench-rtp-"));
const log = (line: string): void => void process.stderr.write(`bench rtp: ${line}\n`);
const setup: BenchSetup = { dir, runs: RUNS, progress: log };
const f1 = (v: number | undefined): string => (v === undefined ? "n/a" : v.toFixed(1));

async function main(): Promise<void> {
  const load = loadavg();
  const clip = join(dir, "clip-640x480.avi");
  await writePatternClip(clip, { width: 640, height: 480, frames: FRAMES });
  const rows: { id: ImplId; loss: number; summary: Summary }[] = [];
  for (const loss of LOSSES) {
    for (const id of IMPL_IDS)
      rows.push({
        id,
        loss,
        summary: await measure(setup, {
          impl: IMPLS[id],
          clip,
          width: 640,
          height: 480,
          fps: 25,
          frames: FRAMES,
          loss,
          record: true,
        }),
      });
  }
  const lines = [
    "# RTP/JPEG: udpcam and GStreamer on the same link",
    "",
    `Written by \`node tools/bench/dist/rtp.js${quick ? " --quick" : ""}\` (the same rows are part of \`pnpm bench\`'s loss matrix, docs/benchmarks/end-to-end.md).`,
    "",
    `- Machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), shared; load ${load.map((l) => l.toFixed(2)).join(" ")} at the start.`,
    `- Input: the test pattern as an MJPG AVI, 640x480, ${FRAMES} frames at 25 fps; GStreamer decodes it and encodes with \`jpegenc quality=80\`, udpcam with OpenCV at quality 80.`,
    `- Link: netsim between sender and receiver, independent loss per IP fragment (1,500 MTU), seed ${NETSIM_SEED}; ${RUNS} run${RUNS === 1 ? "" : "s"} each, medians.`,
    "- Judged by pixels: **intact** = the frame's number reads the same at top and bottom and no band is far below the regenerated source (GStreamer's raw recording in 2-row bands, to see one lost packet); **torn** = recorded but not intact; **lost** = sent, never recorded. Latency: capture to frame complete, from udpcam's stats; RTP carries no capture time the receiver can read without RTCP, so not measured for either RTP row.",
    "",
    "| loss | implementation | intact | torn | lost | latency p50 / p99 ms | sender CPU ms/frame | receiver CPU ms/frame |",
    "| ---: | --- | ---: | ---: | ---: | --- | ---: | ---: |",
    ...rows.map(({ id, loss, summary: s }) => {
      const latency = s.latencyP50 === undefined ? "not measurable" : `${f1(s.latencyP50)} / ${f1(s.latencyP99)}`;
      return `| ${(loss * 100).toFixed(1)}% | ${IMPLS[id].label} | ${s.intact} | ${s.torn} | ${s.lost} | ${latency} | ${f1(s.senderMsPerFrame)} | ${f1(s.receiverMsPerFrame)} |${s.failures.length > 0 ? ` run failed: ${s.failures[0]?.slice(0, 120) ?? ""}` : ""}`;
    }),
    "",
    ANALYSIS_MARKER,
    "",
  ];
  writeReport(OUT, lines);
  log(`wrote ${OUT}`);
}

try {
  await main();
} finally {
  killAllChildren();
  rmSync(dir, { recursive: true, force: true });
}
