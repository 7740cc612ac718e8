// One run of one implementation: receiver, optional netsim in the path, sender, all real
// processes on 127.0.0.1, reading the same test-pattern clip; then the recording is
// classified by its pixels.
// Over 300 lines since the reformat at 120 columns: one launcher per peer (ours, the seed, GStreamer raw and
// JPEG), kept side by side so that their command lines can be compared at a glance.
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DEFAULT_MAX_DATAGRAM_BYTES, LEGACY_DATAGRAM_BYTES, MAX_DATAGRAM_BYTES } from "@udpcam/protocol";
import {
  NETSIM_CLI,
  RECEIVER_LISTENING,
  SEED_CLIENT,
  SEED_SERVER,
  SYSTEM_PYTHON,
  freePort,
  readReceiverStats,
  readSenderStats,
  receiverArgv,
  senderArgv,
  waitForFile,
  type ReceiverStats,
  type SenderStats,
} from "@udpcam/testkit";
import { classifyRecording } from "./recording.js";
import { finish, start, type TimedChild } from "./proc.js";
import { treeCpuSeconds } from "./process-tree.js";

const GST = "gst-launch-1.0";
/** GStreamer's RTP payloaders' default packet size (UDP payload), and the video it carries (rtpvrawpay). */
export const GST_PACKET_BYTES = 1400;
export const GST_PAYLOAD_BYTES = 1380;
export const NETSIM_SEED = 8;
const EIGHT_MB = 8 << 20;
/** The sender's highest --fps: with it, pacing is moot and it sends as fast as it can. */
const FLAT_OUT_FPS = 1000;

export type ImplId =
  | "ours-raw"
  | "ours-raw-1472"
  | "ours-jpeg"
  | "ours-jpeg-1472"
  | "ours-rtp"
  | "seed-default"
  | "seed-8mb"
  | "gst-raw"
  | "gst-jpeg";

export interface Impl {
  readonly id: ImplId;
  readonly label: string;
  readonly codec: "raw" | "jpeg";
  /** Largest datagram on the wire (bytes of UDP payload), for the ceiling comparison. */
  readonly datagramBytes: number;
  /** The seed's format is 640x480 only. */
  readonly only640: boolean;
  /** Can pace at any rate (GStreamer paces only at the clip's own 25 fps, or runs flat out). */
  readonly anyRate: boolean;
  /** Extra receiver options (ours). */
  readonly receiverArgs?: readonly string[];
  /** Extra sender options (ours). */
  readonly senderArgs?: readonly string[];
}

export const IMPLS: Record<ImplId, Impl> = {
  // Defaults on loopback: --datagram-size auto = 65,507 bytes, --fec auto = none.
  "ours-raw": {
    id: "ours-raw",
    label: "udpcam raw (loopback defaults: 65,507 B datagrams, no FEC)",
    codec: "raw",
    datagramBytes: MAX_DATAGRAM_BYTES,
    only640: false,
    anyRate: true,
  },
  // JPEG streams are recorded with --fourcc MJPG: the frames are stored as they arrive, not re-encoded as DIVX.
  "ours-jpeg": {
    id: "ours-jpeg",
    label: "udpcam JPEG q80 (loopback defaults: 65,507 B datagrams, no FEC; recorded as MJPG)",
    codec: "jpeg",
    datagramBytes: MAX_DATAGRAM_BYTES,
    only640: false,
    anyRate: true,
    receiverArgs: ["--fourcc", "MJPG"],
  },
  // Defaults for any other host (what a 1,500-MTU link gets): 1,472-byte datagrams, --fec auto = 10%.
  "ours-raw-1472": {
    id: "ours-raw-1472",
    label: "udpcam raw (network defaults: 1,472 B datagrams, FEC 10%)",
    codec: "raw",
    datagramBytes: DEFAULT_MAX_DATAGRAM_BYTES,
    only640: false,
    anyRate: true,
  },
  "ours-jpeg-1472": {
    id: "ours-jpeg-1472",
    label: "udpcam JPEG q80 (network defaults: 1,472 B datagrams, FEC 10%; recorded as MJPG)",
    codec: "jpeg",
    datagramBytes: DEFAULT_MAX_DATAGRAM_BYTES,
    only640: false,
    anyRate: true,
    receiverArgs: ["--fourcc", "MJPG"],
  },
  // RTP/JPEG (RFC 2435) both ways, as GStreamer's: no FEC, 1,472 B packets (GStreamer's are 1,400 B).
  "ours-rtp": {
    id: "ours-rtp",
    label: "udpcam RTP/JPEG q80 (--protocol rtp: 1,472 B packets, no FEC; recorded as MJPG)",
    codec: "jpeg",
    datagramBytes: DEFAULT_MAX_DATAGRAM_BYTES,
    only640: false,
    anyRate: true,
    receiverArgs: ["--protocol", "rtp", "--fourcc", "MJPG"],
    senderArgs: ["--protocol", "rtp"],
  },
  "seed-default": {
    id: "seed-default",
    label: "seed scripts, default receive buffer",
    codec: "raw",
    datagramBytes: LEGACY_DATAGRAM_BYTES,
    only640: true,
    anyRate: true,
  },
  "seed-8mb": {
    id: "seed-8mb",
    label: "seed scripts, 8 MB receive buffer",
    codec: "raw",
    datagramBytes: LEGACY_DATAGRAM_BYTES,
    only640: true,
    anyRate: true,
  },
  "gst-raw": {
    id: "gst-raw",
    label: "GStreamer RTP raw (RFC 4175), 8 MB buffer",
    codec: "raw",
    datagramBytes: GST_PACKET_BYTES,
    only640: false,
    anyRate: false,
  },
  "gst-jpeg": {
    id: "gst-jpeg",
    label: "GStreamer RTP JPEG q80, 8 MB buffer",
    codec: "jpeg",
    datagramBytes: GST_PACKET_BYTES,
    only640: false,
    anyRate: false,
  },
};

export interface RunSpec {
  readonly impl: Impl;
  readonly clip: string;
  readonly width: number;
  readonly height: number;
  /** Frames per second to send; 0 = as fast as the sender can. */
  readonly fps: number;
  readonly frames: number;
  /** Fragment loss through netsim; undefined = no netsim (plain loopback). */
  readonly loss: number | undefined;
  /** Record (and classify by pixels), or not (ours only: counters only). */
  readonly record: boolean;
  readonly dir: string;
  /**
   * Paced runs only: also read the receiver's CPU (its whole process tree) over the stretch from this many seconds
   * after the sender starts to a second before its last frame is due (`RunResult.steadyMsPerFrame`).
   */
  readonly steadyAfterSeconds?: number;
  /** Extra node flags for our sender and receiver (profiling). */
  readonly senderNodeFlags?: readonly string[];
  readonly receiverNodeFlags?: readonly string[];
}

export interface RunResult {
  readonly sent: number;
  readonly recorded: number;
  readonly intact: number;
  readonly torn: number;
  /** Sent but not recorded at all. */
  readonly lost: number;
  /** Frames the receiver completed (ours: counter; peers: recorded). */
  readonly complete: number;
  /** Sender's wall time from start to exit, seconds (includes process start). */
  readonly sendSeconds: number;
  /** Frames per second over the sender's sending time (ours/seed: their own clock). */
  readonly sendFps: number;
  readonly senderCpuSeconds: number | undefined;
  readonly receiverCpuSeconds: number | undefined;
  /** With `steadyAfterSeconds`: the receiver tree's CPU per frame over the steady stretch, ms (frames at the paced rate). */
  readonly steadyMsPerFrame?: number | undefined;
  readonly receiverPeakKiB: number | undefined;
  /** Ours: the receiver process's own maxrss from its --stats (its encoder processes not included), bytes. */
  readonly receiverOwnPeakBytes?: number | undefined;
  readonly latencyP50: number | undefined;
  readonly latencyP99: number | undefined;
  /** UDP payload bytes the receiver got (ours), for the ceiling share. */
  readonly bytesReceived: number | undefined;
  readonly failure?: string;
}

function gstRtpCaps(impl: Impl, width: number, height: number): string {
  return impl.codec === "raw"
    ? `application/x-rtp,media=(string)video,clock-rate=(int)90000,encoding-name=(string)RAW,sampling=(string)BGR,depth=(string)8,width=(string)${width},height=(string)${height},colorimetry=(string)SMPTE240M,payload=(int)96,a-framerate=(string)25`
    : "application/x-rtp,media=(string)video,clock-rate=(int)90000,encoding-name=(string)JPEG,payload=(int)26";
}

/** Runs one implementation once. Never throws: a broken run is reported as a failure with zero frames. */
export async function runOnce(spec: RunSpec): Promise<RunResult> {
  const started: TimedChild[] = [];
  try {
    return await runInner(spec, started);
  } catch (error) {
    for (const child of started) child.signal("SIGKILL");
    await Promise.all(started.map((child) => child.exited));
    return {
      sent: spec.frames,
      recorded: 0,
      intact: 0,
      torn: 0,
      lost: spec.frames,
      complete: 0,
      sendSeconds: 0,
      sendFps: 0,
      senderCpuSeconds: undefined,
      receiverCpuSeconds: undefined,
      receiverPeakKiB: undefined,
      latencyP50: undefined,
      latencyP99: undefined,
      bytesReceived: undefined,
      failure: error instanceof Error ? error.message : String(error),
    };
  }
}

/**
 * The receiver tree's CPU per frame between `steadyAfterSeconds` after the sender starts and a second before its last
 * frame is due, or undefined (not asked, flat out, or too short a run). `receiver` is GNU time's pid: its own CPU
 * while it waits is nil.
 */
async function steadyWindow(spec: RunSpec, receiver: TimedChild): Promise<number | undefined> {
  const after = spec.steadyAfterSeconds;
  const pid = receiver.child.pid;
  if (after === undefined || spec.fps <= 0 || pid === undefined) return undefined;
  const seconds = spec.frames / spec.fps - 1 - after;
  if (seconds < 2) return undefined;
  await sleep(after * 1000);
  const [cpu0, t0] = [treeCpuSeconds(pid), performance.now()];
  await sleep(seconds * 1000);
  const [cpu1, t1] = [treeCpuSeconds(pid), performance.now()];
  return ((cpu1 - cpu0) / (((t1 - t0) / 1000) * spec.fps)) * 1000;
}

async function runInner(spec: RunSpec, started: TimedChild[]): Promise<RunResult> {
  const { impl, dir } = spec;
  const ours = impl.id.startsWith("ours");
  const tag = `${impl.id}-${Date.now()}`;
  const output = join(dir, `${tag}.${impl.id.startsWith("gst") ? "mkv" : "avi"}`);
  const receiverStats = join(dir, `${tag}-rx.json`);
  const senderStats = join(dir, `${tag}-tx.json`);
  const ready = join(dir, `${tag}.ready`);
  const port = await freePort();
  const expectedSeconds = spec.fps > 0 ? spec.frames / spec.fps : spec.frames / 100;
  const timeoutMs = (expectedSeconds + 60) * 1000;
  const usage = (who: string): string => join(dir, `${tag}-${who}.time`);

  // Receiver.
  let receiver: TimedChild;
  if (ours) {
    const args = [
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--output",
      spec.record ? output : "none",
      "--stats",
      receiverStats,
      "--idle-exit",
      "30",
      ...(impl.receiverArgs ?? []),
    ];
    receiver = start("receiver", process.execPath, receiverArgv(args, spec.receiverNodeFlags), {
      timeoutMs,
      usageFile: usage("rx"),
      cwd: dir,
    });
    started.push(receiver);
    await receiver.waitFor(RECEIVER_LISTENING);
  } else if (impl.id.startsWith("seed")) {
    const args = [
      SEED_SERVER,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--output",
      output,
      "--idle-exit",
      "1",
      "--ready-file",
      ready,
    ];
    if (impl.id === "seed-8mb") args.push("--rcvbuf", String(EIGHT_MB));
    receiver = start("seed_server", SYSTEM_PYTHON, args, {
      timeoutMs,
      usageFile: usage("rx"),
      env: { DISPLAY: undefined },
      cwd: dir,
    });
    started.push(receiver);
    await waitForFile(ready, 20_000);
  } else {
    const tail = impl.codec === "raw" ? ["rtpvrawdepay"] : ["rtpjpegdepay", "!", "jpegdec", "max-errors=-1"];
    const args = [
      "-e",
      "udpsrc",
      "address=127.0.0.1",
      `port=${port}`,
      `buffer-size=${EIGHT_MB}`,
      `caps=${gstRtpCaps(impl, spec.width, spec.height)}`,
      "!",
      ...tail,
      "!",
      "videoconvert",
      "!",
      "video/x-raw,format=BGR",
      "!",
      "matroskamux",
      "!",
      "filesink",
      `location=${output}`,
    ];
    receiver = start("gst receiver", GST, args, { timeoutMs, usageFile: usage("rx"), cwd: dir });
    started.push(receiver);
    await receiver.waitFor(/PLAYING/);
    await sleep(200);
  }

  // Netsim in the path, when asked.
  let netsim: TimedChild | undefined;
  let sendPort = port;
  if (spec.loss !== undefined) {
    netsim = start(
      "netsim",
      process.execPath,
      [
        NETSIM_CLI,
        "--listen",
        "127.0.0.1:0",
        "--target",
        `127.0.0.1:${port}`,
        "--loss",
        String(spec.loss),
        "--seed",
        String(NETSIM_SEED),
      ],
      {
        timeoutMs,
        usageFile: usage("netsim"),
      },
    );
    started.push(netsim);
    const match = await netsim.waitFor(/listening on [^\s]+:(\d+),/);
    sendPort = Number(match[1]);
  }

  // Sender.
  let sender: TimedChild;
  if (ours) {
    const args = [
      "--source",
      spec.clip,
      "--fps",
      String(spec.fps > 0 ? spec.fps : FLAT_OUT_FPS),
      "--frames",
      String(spec.frames),
      "--host",
      "127.0.0.1",
      "--port",
      String(sendPort),
      "--codec",
      impl.codec,
      "--stats",
      senderStats,
    ];
    if (impl.datagramBytes === DEFAULT_MAX_DATAGRAM_BYTES)
      args.push("--datagram-size", String(DEFAULT_MAX_DATAGRAM_BYTES));
    args.push(...(impl.senderArgs ?? []));
    sender = start("sender", process.execPath, senderArgv(args, spec.senderNodeFlags), {
      timeoutMs,
      usageFile: usage("tx"),
      cwd: dir,
    });
  } else if (impl.id.startsWith("seed")) {
    sender = start(
      "seed_client",
      SYSTEM_PYTHON,
      [
        SEED_CLIENT,
        "--host",
        "127.0.0.1",
        "--port",
        String(sendPort),
        "--source",
        spec.clip,
        "--frames",
        String(spec.frames),
        "--fps",
        String(spec.fps),
      ],
      {
        timeoutMs,
        usageFile: usage("tx"),
      },
    );
  } else {
    const encode =
      impl.codec === "raw"
        ? ["videoconvert", "!", "video/x-raw,format=BGR", "!", "rtpvrawpay"]
        : ["jpegenc", "quality=80", "!", "rtpjpegpay"];
    const args = [
      "-q",
      "filesrc",
      `location=${spec.clip}`,
      "!",
      "avidemux",
      "!",
      "identity",
      `eos-after=${spec.frames}`,
      "!",
      "jpegdec",
      "!",
      ...encode,
      "!",
      "udpsink",
      "host=127.0.0.1",
      `port=${sendPort}`,
      `sync=${spec.fps > 0}`,
    ];
    sender = start("gst sender", GST, args, { timeoutMs, usageFile: usage("tx") });
  }
  started.push(sender);
  const steady = steadyWindow(spec, receiver);
  const senderExit = await sender.exited;
  const steadyMsPerFrame = await steady;
  if (senderExit !== 0) throw new Error(`${sender.name} exited with ${senderExit}: ${sender.stderr().slice(-400)}`);

  // The seed's server stops by itself after 1 s of silence; ours and GStreamer's get SIGINT
  // 1.5 s after the sender is done (ours could idle-exit, but a sender that stalls for a
  // second while starting would then lose the rest of the run).
  const grace = impl.id.startsWith("seed") ? 15_000 : 1500;
  await finish(receiver, grace);
  if (netsim !== undefined) await finish(netsim, 0);

  const tx = sender.usage();
  const rx = receiver.usage();
  const rxStats: ReceiverStats | undefined = ours ? readReceiverStats(receiverStats) : undefined;
  const txStats: SenderStats | undefined = ours ? readSenderStats(senderStats) : undefined;
  const classified = spec.record ? await classifyRecording(output, impl.id.startsWith("gst")) : undefined;
  let sent = spec.frames;
  let sendSeconds = tx?.wallSeconds ?? 0;
  if (txStats !== undefined) {
    sent = txStats.framesSent;
    // From the "sending to" log line (source open, socket ready) to the end of the run:
    // process start and OpenCV loading are not sending time.
    const sendingAt = /"time":(\d+),[^\n]*"msg":"sending to /.exec(sender.stdout() + sender.stderr());
    const endMs = txStats.startedAt + txStats.elapsedSeconds * 1000;
    sendSeconds = sendingAt?.[1] !== undefined ? (endMs - Number(sendingAt[1])) / 1000 : txStats.elapsedSeconds;
  } else if (impl.id.startsWith("seed")) {
    const printed = JSON.parse(sender.stdout().trim() || "{}") as { framesSent?: number; seconds?: number };
    sent = printed.framesSent ?? sent;
    sendSeconds = printed.seconds ?? sendSeconds;
  }
  const complete = rxStats?.framesComplete ?? classified?.recorded ?? 0;
  const recorded = classified?.recorded ?? complete;
  const intact = classified?.intact ?? complete;
  return {
    sent,
    recorded,
    intact,
    torn: classified?.torn ?? 0,
    lost: Math.max(0, sent - recorded),
    complete,
    sendSeconds,
    sendFps: sendSeconds > 0 ? sent / sendSeconds : 0,
    senderCpuSeconds: tx?.cpuSeconds,
    receiverCpuSeconds: rx?.cpuSeconds,
    steadyMsPerFrame,
    receiverPeakKiB: rx?.peakKiB,
    receiverOwnPeakBytes: rxStats?.resources.peakRssBytes,
    latencyP50: rxStats?.latencyMs.p50,
    latencyP99: rxStats?.latencyMs.p99,
    bytesReceived: rxStats?.bytesReceived,
  };
}
