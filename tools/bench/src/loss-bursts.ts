// Loss in bursts (issue 18): the same JPEG 640x480 q80 clip at 25 fps through the same netsim links, in
// one run, for udpcam's FEC schemes and GStreamer's and ffmpeg's RTP/JPEG (all three send the clip's
// JPEG bytes as they are); plus independent loss, a 300 ms outage and raw 640x480 in 1,472-byte
// datagrams. Each recording is judged by its bytes (udpcam's MJPG: every stored JPEG against the
// clip's) and its pixels (every recording, against the regenerated pattern). Writes
// docs/benchmarks/loss-bursts.md. Usage: node dist/loss-bursts.js [--quick].
// A benchmark, not a test: a missed target is written down, the exit code stays 0.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release } from "node:os";
import { join } from "node:path";
import { startNetsim, type NetsimOptions } from "@udpcam/netsim";
import { DEFAULT_MAX_DATAGRAM_BYTES, rtpJpegSdp } from "@udpcam/protocol";
import {
  REPO_ROOT,
  compareRecordedJpegs,
  freePort,
  inspectFrame,
  inspectRecording,
  isIntact,
  loopbackReceiveArgs,
  loopbackTargetArgs,
  patternJpeg,
  readReceiverStats,
  readSenderStats,
  receiverArgv,
  RECEIVER_LISTENING,
  senderArgv,
  spawnChild,
  waitForUdpPort,
  type Child,
  type RecordedFrame,
} from "@udpcam/testkit";
import { createFrame, openRecording } from "@udpcam/video";
import { readQuick } from "./options.js";
import { GST_PACKET_BYTES } from "./peers.js";
import { finish } from "./proc.js";
import { looksIntact } from "./recording.js";
import { ANALYSIS_MARKER, benchSession, runBench, writeReport } from "./report.js";
import { median } from "./summary.js";

const quick = readQuick(
  "bench loss-bursts",
  {
    usage: "node tools/bench/dist/loss-bursts.js [--quick]",
    summary:
      "udpcam window and per-frame FEC, GStreamer and ffmpeg RTP/JPEG through 1% bursty loss, independent loss, a 300 ms outage;\n" +
      "raw 640x480 in 1,472-byte datagrams; writes docs/benchmarks/loss-bursts.md.",
  },
  "one seed per link and 100 frames (figures not for comparison)",
);

const OUT = join(REPO_ROOT, "docs/benchmarks/loss-bursts.md");
const WIDTH = 640;
const HEIGHT = 480;
const FPS = 25;
const QUALITY = 80;
const FRAMES = quick ? 100 : 250;
const IPV4_UDP_HEADER_BYTES = 28;
/** The issue's targets on the bursty link. */
const TARGET_INTACT = 0.996;
const TARGET_OVERHEAD = 0.15;
const OUTAGE_MS = 300;

const { dir, log, cleanup } = benchSession("udpcam-bench-loss-bursts-", "bench loss-bursts");

type Peer = "udpcam" | "gstreamer" | "ffmpeg";

/** One implementation and configuration: a row of the table on every link that lists it. */
interface Row {
  readonly label: string;
  readonly peer: Peer;
  /** udpcam only: options added to its sender's and its receiver's command lines. */
  readonly senderArgs?: readonly string[];
  readonly receiverArgs?: readonly string[];
}

/**
 * udpcam's configurations on the JPEG links, each run on every JPEG link and seed. A new mode
 * (retransmission, another budget) is one more entry here.
 */
export const UDPCAM_JPEG_ROWS: readonly Row[] = [
  { label: "udpcam, window FEC 12%, `--latency 100` (default)", peer: "udpcam" },
  { label: "udpcam, per-frame FEC 10% (`--fec-scheme frame`)", peer: "udpcam", senderArgs: ["--fec-scheme", "frame"] },
  {
    label: "udpcam, NACK alone (`--nack on` both ends, `--fec 0`)",
    peer: "udpcam",
    senderArgs: ["--nack", "on", "--fec", "0"],
    receiverArgs: ["--nack", "on"],
  },
  {
    label: "udpcam, NACK + window FEC 5% (`--nack on` both ends, `--fec 0.05`)",
    peer: "udpcam",
    senderArgs: ["--nack", "on", "--fec", "0.05"],
    receiverArgs: ["--nack", "on"],
  },
];
const GSTREAMER: Row = {
  label: "GStreamer RTP/JPEG (`rtpjpegpay` / `rtpjitterbuffer latency=100 ! rtpjpegdepay`), no FEC",
  peer: "gstreamer",
};
const FFMPEG: Row = { label: "ffmpeg RTP/JPEG (`-c:v copy -f rtp` / SDP in), no FEC", peer: "ffmpeg" };
const UDPCAM_RAW: Row = { label: "udpcam raw, per-frame FEC 10% (raw default)", peer: "udpcam" };

type Target = "bursty" | "independent" | "outage" | "stated";

interface Link {
  readonly label: string;
  /** netsim's options (the seed comes from `seeds`). */
  readonly netsim: Omit<NetsimOptions, "target" | "seed">;
  /** The netsim command line that is the same link, for the report. */
  readonly flags: string;
  readonly seeds: readonly number[];
  readonly codec: "jpeg" | "raw";
  readonly rows: readonly Row[];
  readonly target: Target;
}

const BURSTY = { loss: 0.01, burst: 4, reorder: 0.01 } as const;
const BURSTY_SEEDS = quick ? [8] : [8, 18, 28];
/** 14 and 17: the seeds whose last frame the old window FEC schedule lost at independent 1% (loss-bursts.md). */
const INDEPENDENT_SEEDS = quick ? [8] : [8, 14, 17];
const OUTAGE_AT_MS = Math.round(((FRAMES / FPS) * 1000) / 2);

const LINKS: readonly Link[] = [
  {
    label: "1% in bursts of mean 4, 1% reordered",
    netsim: BURSTY,
    flags: "--loss 0.01 --burst 4 --reorder 0.01",
    seeds: BURSTY_SEEDS,
    codec: "jpeg",
    rows: [...UDPCAM_JPEG_ROWS, GSTREAMER, FFMPEG],
    target: "bursty",
  },
  {
    label: "1% (0.2% of it between bursts, Gilbert-Elliott), bursts of mean 4, 1% reordered",
    netsim: { ...BURSTY, lossGood: 0.002 },
    flags: "--loss 0.01 --burst 4 --loss-good 0.002 --reorder 0.01",
    seeds: [8],
    codec: "jpeg",
    rows: [...UDPCAM_JPEG_ROWS, GSTREAMER],
    target: "bursty",
  },
  {
    label: "independent 0.2%, 1% reordered",
    netsim: { loss: 0.002, reorder: 0.01 },
    flags: "--loss 0.002 --reorder 0.01",
    seeds: INDEPENDENT_SEEDS,
    codec: "jpeg",
    rows: [...UDPCAM_JPEG_ROWS, GSTREAMER],
    target: "independent",
  },
  {
    label: "independent 1%, 1% reordered",
    netsim: { loss: 0.01, reorder: 0.01 },
    flags: "--loss 0.01 --reorder 0.01",
    seeds: INDEPENDENT_SEEDS,
    codec: "jpeg",
    rows: [...UDPCAM_JPEG_ROWS, GSTREAMER],
    target: "independent",
  },
  {
    label: `${OUTAGE_MS} ms outage, nothing else`,
    netsim: { outageMs: OUTAGE_MS, outageAtMs: OUTAGE_AT_MS },
    flags: `--outage ${OUTAGE_MS} --outage-at ${OUTAGE_AT_MS}`,
    seeds: [1],
    codec: "jpeg",
    rows: [...UDPCAM_JPEG_ROWS, GSTREAMER],
    target: "outage",
  },
  {
    label: "raw 640x480, 1% in bursts of mean 4, 1% reordered",
    netsim: BURSTY,
    flags: "--loss 0.01 --burst 4 --reorder 0.01",
    seeds: [8],
    codec: "raw",
    rows: [UDPCAM_RAW],
    target: "stated",
  },
];

interface RunResult {
  readonly sent: number;
  /** Frame numbers recorded intact, in recording order. */
  readonly intactNumbers: readonly number[];
  readonly recorded: number;
  readonly torn: number;
  /** IP + UDP bytes of what entered the link (every datagram here fits one 1,500-byte packet). */
  readonly wireBytes: number;
  /** udpcam: datagrams it sent that netsim never read (dropped by the kernel at netsim's socket: a busy machine). */
  readonly unseenByLink: number;
  readonly latencyP50: number | undefined;
  readonly latencyP99: number | undefined;
  readonly failure?: string;
}

const clipJpegs = new Map<number, Uint8Array>();
const clipJpeg = (n: number): Uint8Array => {
  let jpeg = clipJpegs.get(n);
  if (jpeg === undefined) clipJpegs.set(n, (jpeg = patternJpeg(n, WIDTH, HEIGHT, QUALITY)));
  return jpeg;
};

/** An MJPG AVI of the pattern's JPEGs at q80: what udpcam, GStreamer and ffmpeg all send as they are. */
async function writeClip(path: string): Promise<void> {
  const recording = await openRecording({ path, fourcc: "MJPG", fps: FPS });
  for (let n = 0; n < FRAMES; n++)
    await recording.write({ kind: "jpeg", bytes: clipJpeg(n), width: WIDTH, height: HEIGHT });
  await recording.close();
}

const wireBytes = (bytes: number, datagrams: number): number => bytes + IPV4_UDP_HEADER_BYTES * datagrams;
const timeoutMs = (FRAMES / FPS) * 1000 + 90_000;
let runCount = 0;

/** Starts the receiving side of `row` on `port`; resolves once it receives, with the file it records to. */
async function startReceiving(row: Row, port: number, tag: string) {
  const output = join(dir, `${tag}.${{ udpcam: "avi", gstreamer: "mkv", ffmpeg: "bgr" }[row.peer]}`);
  const stats = join(dir, `${tag}-rx.json`);
  let child: Child;
  if (row.peer === "udpcam") {
    const args = [...loopbackReceiveArgs(port, { output, stats, idleExit: 2 }), ...(row.receiverArgs ?? [])];
    child = spawnChild(process.execPath, receiverArgv(args), { name: "receiver", timeoutMs });
    await child.waitFor(RECEIVER_LISTENING);
  } else if (row.peer === "gstreamer") {
    const caps =
      "application/x-rtp,media=(string)video,clock-rate=(int)90000,encoding-name=(string)JPEG,payload=(int)26";
    const args = ["-e", "udpsrc", "address=127.0.0.1", `port=${port}`, "buffer-size=8388608", `caps=${caps}`];
    // A jitter buffer with udpcam's budget puts reordered packets back in order (rtpjpegdepay alone loses their frames).
    args.push(
      "!",
      "rtpjitterbuffer",
      "latency=100",
      "!",
      "rtpjpegdepay",
      "!",
      "jpegdec",
      "max-errors=-1",
      "!",
      "videoconvert",
      "!",
      "video/x-raw,format=BGR",
    );
    args.push("!", "matroskamux", "!", "filesink", `location=${output}`);
    child = spawnChild("gst-launch-1.0", args, { name: "gst receiver", timeoutMs });
    await child.waitFor(/PLAYING/);
    await waitForUdpPort(port);
  } else {
    const sdp = join(dir, `${tag}.sdp`);
    writeFileSync(sdp, rtpJpegSdp({ address: "127.0.0.1", port, fps: FPS }));
    // Raw BGR frames back to back, as tools/e2e's ffmpeg reader writes them: a frame not decoded is not written.
    const args = ["-nostdin", "-v", "error", "-protocol_whitelist", "file,udp,rtp", "-i", sdp];
    args.push("-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "bgr24", "-y", output);
    child = spawnChild("ffmpeg", args, { name: "ffmpeg receiver", timeoutMs });
    await waitForUdpPort(port);
  }
  return { child, output, stats };
}

function startSending(row: Row, codec: "jpeg" | "raw", clip: string, port: number, stats: string): Child {
  if (row.peer === "udpcam") {
    const args = ["--source", clip, "--codec", codec, "--fps", String(FPS), "--frames", String(FRAMES)];
    args.push(
      "--datagram-size",
      String(DEFAULT_MAX_DATAGRAM_BYTES),
      ...loopbackTargetArgs(port),
      ...(row.senderArgs ?? []),
      ...["--stats", stats],
    );
    return spawnChild(process.execPath, senderArgv(args), { name: "sender", timeoutMs });
  }
  if (row.peer === "gstreamer") {
    const args = ["-q", "filesrc", `location=${clip}`, "!", "avidemux", "!", "rtpjpegpay", "!"];
    args.push("udpsink", "host=127.0.0.1", `port=${port}`, "sync=true");
    return spawnChild("gst-launch-1.0", args, { name: "gst sender", timeoutMs });
  }
  const args = ["-nostdin", "-v", "error", "-re", "-i", clip, "-c:v", "copy", "-f", "rtp", `rtp://127.0.0.1:${port}`];
  return spawnChild("ffmpeg", args, { name: "ffmpeg sender", timeoutMs });
}

/** One row on one link with one seed (or `netsim` {} and seed 0: the clean baseline). Never throws. */
async function runOnce(
  row: Row,
  codec: "jpeg" | "raw",
  link: Link["netsim"],
  seed: number,
  clip: string,
): Promise<RunResult> {
  const tag = `run-${runCount++}`;
  try {
    const port = await freePort();
    const receiving = await startReceiving(row, port, tag);
    const netsim = await startNetsim({ target: { host: "127.0.0.1", port }, seed, ...link });
    const senderStats = join(dir, `${tag}-tx.json`);
    const sender = startSending(row, codec, clip, netsim.port, senderStats);
    const sent = await sender.exited;
    if (sent !== 0) throw new Error(`${sender.name} exited with ${sent}: ${sender.stderr().slice(-300)}`);
    await finish(receiving.child, row.peer === "udpcam" ? 10_000 : 1500);
    const netsimStats = await netsim.close();
    let frames: RecordedFrame[];
    let intactNumbers: number[];
    let latency: { p50: number | undefined; p99: number | undefined } = { p50: undefined, p99: undefined };
    if (row.peer === "udpcam") {
      frames = await inspectRecording(receiving.output, { tolerateCutOff: true });
      const rx = readReceiverStats(receiving.stats);
      latency = rx.latencyMs;
      // Intact: right pixels (every band, testkit's isIntact) and, for JPEG, the clip's bytes exactly.
      intactNumbers = frames.filter(isIntact).map((f) => f.number!);
      if (codec === "jpeg") {
        const bytes = await compareRecordedJpegs(receiving.output, frames, clipJpeg);
        if (bytes.same < intactNumbers.length) intactNumbers = intactNumbers.slice(0, bytes.same);
      }
    } else {
      // The peers decode: their raw BGR recordings judged in 2-row bands, to see one lost packet's hole.
      frames =
        row.peer === "ffmpeg"
          ? rawFrames(receiving.output)
          : await inspectRecording(receiving.output, { tolerateCutOff: true, bandRows: 2 });
      intactNumbers = frames.filter(looksIntact).map((f) => f.number!);
    }
    const torn = frames.length - intactNumbers.length;
    // What entered the link: udpcam's own count of what it sent (netsim's misses what the kernel dropped at its socket).
    const tx = row.peer === "udpcam" ? readSenderStats(senderStats) : undefined;
    return {
      sent: FRAMES,
      // A frame recorded twice counts once.
      intactNumbers: [...new Set(intactNumbers)],
      recorded: frames.length,
      torn,
      wireBytes:
        tx === undefined
          ? wireBytes(netsimStats.bytesIn, netsimStats.datagramsIn)
          : // Retransmissions (--nack on) are not in bytesSent: they are overhead too.
            wireBytes(tx.bytesSent + tx.nack.bytesRetransmitted, tx.datagramsSent + tx.nack.datagramsRetransmitted),
      unseenByLink: tx === undefined ? 0 : Math.max(0, tx.datagramsSent - netsimStats.datagramsIn),
      latencyP50: latency.p50,
      latencyP99: latency.p99,
    };
  } catch (error) {
    return {
      sent: FRAMES,
      intactNumbers: [],
      recorded: 0,
      torn: 0,
      wireBytes: 0,
      unseenByLink: 0,
      latencyP50: undefined,
      latencyP99: undefined,
      failure: error instanceof Error ? error.message : String(error),
    };
  }
}

/** ffmpeg's raw BGR frames, each judged against the pattern in 2-row bands. */
function rawFrames(path: string): RecordedFrame[] {
  if (!existsSync(path)) return [];
  const bytes = readFileSync(path);
  const size = WIDTH * HEIGHT * 3;
  const frames: RecordedFrame[] = [];
  for (let at = 0; at + size <= bytes.length; at += size)
    frames.push(inspectFrame(createFrame(bytes.subarray(at, at + size), WIDTH, HEIGHT), 2));
  return frames;
}

interface Outcome {
  readonly link: Link;
  readonly row: Row;
  readonly runs: readonly { readonly seed: number; readonly result: RunResult }[];
}

/** The frames not recorded intact form one run (the outage), and every frame around it is intact. */
function oneGap(result: RunResult): { gap: number; whole: boolean } {
  const intact = new Set(result.intactNumbers);
  const missing = Array.from({ length: result.sent }, (_, n) => n).filter((n) => !intact.has(n));
  const first = missing[0];
  const last = missing.at(-1);
  const contiguous = first === undefined || last === undefined || last - first + 1 === missing.length;
  return { gap: missing.length, whole: contiguous && result.torn === 0 && result.intactNumbers.length === intact.size };
}

const pct = (part: number, whole: number): string => (whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : "n/a");
const f0 = (v: number | undefined): string => (v === undefined ? "n/a" : v.toFixed(0));

function tableRow(outcome: Outcome, baseline: Record<"jpeg" | "raw", number>): string {
  const { link, row, runs } = outcome;
  const results = runs.map((r) => r.result);
  const sent = results.reduce((s, r) => s + r.sent, 0);
  const intact = results.reduce((s, r) => s + r.intactNumbers.length, 0);
  const torn = results.reduce((s, r) => s + r.torn, 0);
  const dropped = results.reduce((s, r) => s + (r.sent - r.recorded), 0);
  const wire = median(results.map((r) => (r.wireBytes > 0 ? r.wireBytes : undefined)));
  const base = baseline[link.codec];
  const overhead = wire === undefined || base <= 0 ? undefined : wire / base - 1;
  const p50 = median(results.map((r) => r.latencyP50));
  const p99 = median(results.map((r) => r.latencyP99));
  const latency = row.peer === "udpcam" ? `${f0(p50)} / ${f0(p99)}` : "not measurable";
  const perSeed = runs.map((r) => `${r.seed}: ${r.result.intactNumbers.length}`).join(", ");
  let target: string;
  if (link.target === "bursty") {
    const pass = intact >= TARGET_INTACT * sent && torn === 0 && overhead !== undefined && overhead <= TARGET_OVERHEAD;
    target = pass ? "pass" : "miss";
  } else if (link.target === "independent") target = intact === sent && torn === 0 ? "pass" : "miss";
  else if (link.target === "outage") {
    const gaps = results.map(oneGap);
    target = `${gaps.every((g) => g.whole) ? "pass" : "miss"} (gap ${gaps.map((g) => g.gap).join(", ")} frames)`;
  } else target = torn === 0 ? "stated; 0 torn" : "stated; torn";
  const failures = results.flatMap((r) => (r.failure === undefined ? [] : [r.failure.slice(0, 120)]));
  const unseen = results.reduce((sum, r) => sum + r.unseenByLink, 0);
  if (unseen > 0) target += `; ${unseen} datagrams sent never reached netsim (the kernel dropped them at its socket)`;
  const overheadText = overhead === undefined ? "n/a" : `${(100 * overhead).toFixed(1)}%`;
  return (
    `| ${row.label} | ${intact} / ${sent} (${pct(intact, sent)}) | ${perSeed} | ${torn} | ${dropped} | ${overheadText} | ${latency} | ${target} |` +
    (failures.length > 0 ? ` run failed: ${failures.join(" | ")}` : "")
  );
}

function commit(): string {
  const result = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : "unknown";
}

async function main(): Promise<void> {
  const loadAtStart = loadavg();
  const startedIso = new Date().toISOString();
  const clip = join(dir, "clip-640x480-q80.avi");
  await writeClip(clip);
  // The streams without FEC on a clean link: what the overhead is measured against.
  const baseline = { jpeg: 0, raw: 0 };
  for (const codec of ["jpeg", "raw"] as const) {
    const plain: Row = { label: "udpcam, no FEC", peer: "udpcam", senderArgs: ["--fec", "0"] };
    const result = await runOnce(plain, codec, {}, 0, clip);
    baseline[codec] = result.wireBytes;
    log(
      `baseline ${codec} (no FEC, clean link): ${result.wireBytes} B on the wire, ${result.intactNumbers.length}/${FRAMES} intact${result.failure === undefined ? "" : `; FAILED: ${result.failure}`}`,
    );
  }
  const outcomes: Outcome[] = [];
  for (const link of LINKS) {
    for (const row of link.rows) {
      const runs: { seed: number; result: RunResult }[] = [];
      for (const seed of link.seeds) {
        const result = await runOnce(row, link.codec, link.netsim, seed, clip);
        runs.push({ seed, result });
        log(
          `${link.label} | ${row.label} | seed ${seed}: ${result.intactNumbers.length}/${result.sent} intact, ${result.torn} torn, ` +
            `${result.sent - result.recorded} dropped${result.failure === undefined ? "" : `; FAILED: ${result.failure}`}`,
        );
      }
      outcomes.push({ link, row, runs });
    }
  }
  const loadAtEnd = loadavg();
  const lines = [
    "# Loss in bursts: udpcam's FEC against GStreamer and ffmpeg RTP/JPEG on the same links (issue 18)",
    "",
    `Written by \`node tools/bench/dist/loss-bursts.js${quick ? " --quick" : ""}\` (\`pnpm --filter @udpcam/bench bench:loss-bursts\`), commit ${commit()}, started ${startedIso}.`,
    "",
    `- Machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), Linux ${release()}; load average ${loadAtStart.map((l) => l.toFixed(2)).join(" ")} at the start, ${loadAtEnd.map((l) => l.toFixed(2)).join(" ")} at the end (above ${cpus().length}: shared with other work; compare rows of one run).`,
    `- Input: the test pattern, ${FRAMES} frames of ${WIDTH}x${HEIGHT} JPEG q80 (OpenCV) in an MJPG AVI, 25 fps. udpcam (\`--codec jpeg\`, 1,472-byte datagrams), GStreamer (\`filesrc ! avidemux ! rtpjpegpay ! udpsink sync=true\`, ${GST_PACKET_BYTES}-byte packets) and ffmpeg (\`-re -i clip -c:v copy -f rtp\`) all send the clip's JPEG bytes as they are. The raw rows send the decoded frames (\`--codec raw\`).`,
    "- Link: netsim (in the bench's process) between each sender and its receiver; per link, the netsim flags below with the seeds listed (the same seeds for every row). Loss is per IP fragment at MTU 1,500; every datagram here is one fragment.",
    "- Receivers: udpcam records MJPG (JPEG) or DIVX (raw); GStreamer `udpsrc ! rtpjitterbuffer latency=100 ! rtpjpegdepay ! jpegdec ! videoconvert ! matroskamux` (raw BGR; without the jitter buffer, in a quick run of this bench, 0.2% loss with 1% reordering cost it 30 frames of 100); ffmpeg reads an SDP (`-fps_mode passthrough`) and writes raw BGR frames.",
    "- **Intact**: udpcam: the frame's number reads the same at top and bottom, every one of 20 bands is above 18 dB against the regenerated pattern, and (JPEG) the stored JPEG is the clip's, byte for byte. Peers (decoded): the same number check in 2-row bands, so that one lost packet's hole shows. **Torn**: recorded but not intact. **Dropped**: sent, never recorded.",
    "- **Overhead**: IP + UDP bytes sent into the link (udpcam: its sender's count; peers: what netsim read) over those of udpcam's stream of the same frames with no FEC (`--fec 0`) on a clean link" +
      ` (JPEG ${baseline.jpeg} B, raw ${baseline.raw} B). **Latency**: capture to frame complete at the receiver, p50 / p99 (median over seeds), from udpcam's stats; RTP carries no capture time without RTCP.`,
    `- **Targets** (issue 18): bursty links: >= ${(100 * TARGET_INTACT).toFixed(1)}% intact, 0 torn, overhead <= ${(100 * TARGET_OVERHEAD).toFixed(0)}%; independent loss: 100% intact; outage: 0 torn and the frames not recorded are one gap (the outage), every frame before and after it intact; raw: intact share and overhead stated.`,
    "",
  ];
  for (const link of LINKS) {
    lines.push(`## ${link.label}`, "", `\`${link.flags} --seed N\`, seeds ${link.seeds.join(", ")}.`, "");
    lines.push(
      "| implementation | intact | intact per seed | torn | dropped | overhead | latency p50 / p99 ms | target |",
      "| --- | ---: | --- | ---: | ---: | ---: | --- | --- |",
    );
    for (const outcome of outcomes.filter((o) => o.link === link)) lines.push(tableRow(outcome, baseline));
    lines.push("");
  }
  lines.push(ANALYSIS_MARKER, "");
  writeReport(OUT, lines);
  log(`wrote ${OUT}`);
}

await runBench(main, log, cleanup);
