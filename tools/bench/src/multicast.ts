// Beyond one pair: multicast to 1, 3 and 6 receivers (each a network namespace on one bridge,
// made and removed here: no group ever reaches this machine's loopback or a real interface),
// and JPEG pass-through against decode + re-encode on the sender. Writes
// docs/benchmarks/multicast.md. Usage: node dist/multicast.js [--quick].
// A benchmark, not a test: a missed figure is written down, the exit code stays 0.
import { spawnSync } from "node:child_process";
import { cpus, loadavg, release } from "node:os";
import { join } from "node:path";
import {
  REPO_ROOT,
  createLan,
  freePort,
  inspectRecording,
  judgeRecording,
  loopbackReceiveArgs,
  loopbackTargetArgs,
  readSenderStats,
  receiveArgs,
  senderArgv,
  sourceArgs,
  startReceiver,
  startReceiverIn,
  writePatternClip,
  type Child,
  type Lan,
  type LanHost,
} from "@udpcam/testkit";
import { finish, start, type Usage } from "./proc.js";
import { readQuick } from "./options.js";
import { benchSession, runBench, writeReport } from "./report.js";
import { median } from "./summary.js";

const quick = readQuick(
  "bench multicast",
  {
    usage: "node tools/bench/dist/multicast.js [--quick]",
    summary:
      "Multicast to 1, 3 and 6 receivers in network namespaces, and the sender's CPU with JPEG pass-through against decode + re-encode; writes docs/benchmarks/multicast.md.",
  },
  "short runs, for development (figures not for comparison)",
);

const OUT = join(REPO_ROOT, "docs/benchmarks/multicast.md");
const RUNS = quick ? 1 : 3;
const FANOUT_FRAMES = quick ? 100 : 250;
const PASSTHROUGH_FRAMES = quick ? 100 : 300;
const RECEIVER_COUNTS = [1, 3, 6] as const;
const GROUP = "239.255.42.2";
const GROUP_PORT = 5004;

let lan: Lan | undefined;
const { dir, log, cleanup } = benchSession("udpcam-bench-multicast-", "bench multicast", () => lan?.remove());
const f2 = (v: number | undefined): string => (v === undefined ? "n/a" : v.toFixed(2));
const f1 = (v: number | undefined): string => (v === undefined ? "n/a" : v.toFixed(1));
let runCount = 0;
const usageFile = (): string => join(dir, `usage-${runCount++}.txt`);

/** Bytes the host's eth0 has sent so far (what went on the wire from it). */
function txBytes(host: LanHost): number {
  const out = spawnSync("ip", ["-j", "-s", "-n", host.namespace, "link", "show", "dev", "eth0"], {
    encoding: "utf8",
  }).stdout;
  const parsed = JSON.parse(out) as { stats64?: { tx?: { bytes?: number } } }[];
  return parsed[0]?.stats64?.tx?.bytes ?? 0;
}

interface FanoutRun {
  /** The sender's user + system seconds for the whole run, start-up included. */
  readonly senderCpuSeconds: number | undefined;
  readonly wireMB: number;
  readonly datagrams: number;
  readonly intact: readonly number[];
}

async function fanout(net: Lan, receivers: number): Promise<FanoutRun> {
  const [senderHost, ...others] = net.hosts;
  if (senderHost === undefined) throw new Error("no sender host");
  const peers: { child: Child; output: string }[] = [];
  for (const host of others.slice(0, receivers)) {
    const output = join(dir, `fanout-${receivers}-${host.address}.avi`);
    const args = [
      ...["--host", GROUP, "--multicast-interface", host.address],
      ...receiveArgs(GROUP_PORT, { output, fourcc: "MJPG", idleExit: 2 }),
    ];
    peers.push({ child: await startReceiverIn(host, args), output });
  }
  const stats = join(dir, `fanout-${receivers}.json`);
  const before = txBytes(senderHost);
  const args = senderArgv([
    ...sourceArgs({ source: "test", codec: "jpeg", width: 640, height: 480, fps: 25, frames: FANOUT_FRAMES }),
    ...["--host", GROUP, "--port", String(GROUP_PORT), "--multicast-interface", senderHost.address, "--stats", stats],
  ]);
  const sender = start("sender", "ip", ["netns", "exec", senderHost.namespace, process.execPath, ...args], {
    timeoutMs: 120_000,
    usageFile: usageFile(),
  });
  await finish(sender, 100_000);
  const wire = txBytes(senderHost) - before;
  for (const peer of peers) await finish(peer.child, 15_000);
  const intact: number[] = [];
  for (const peer of peers)
    intact.push(judgeRecording(await inspectRecording(peer.output, { tolerateCutOff: true })).intact);
  const usage = sender.usage();
  return {
    senderCpuSeconds: usage?.cpuSeconds,
    wireMB: wire / 1e6,
    datagrams: readSenderStats(stats).datagramsSent,
    intact,
  };
}

/** The sender's CPU for `frames` frames of `clip` to a receiver on loopback. */
async function senderCpu(
  clip: string,
  frames: number,
  passthrough: boolean,
): Promise<{ usage: Usage | undefined; passedThrough: number }> {
  const port = await freePort();
  const receiver = await startReceiver(loopbackReceiveArgs(port, { output: "none", idleExit: 1 }));
  const stats = join(dir, `passthrough-${runCount}.json`);
  const args = senderArgv([
    ...sourceArgs({ source: clip, codec: "jpeg", fps: 100, frames }),
    ...loopbackTargetArgs(port),
    ...["--stats", stats],
    ...(passthrough ? [] : ["--jpeg-passthrough", "off"]),
  ]);
  const sender = start("sender", process.execPath, args, { timeoutMs: 120_000, usageFile: usageFile() });
  await finish(sender, 100_000);
  await finish(receiver, 10_000);
  return { usage: sender.usage(), passedThrough: readSenderStats(stats).framesPassedThrough };
}

/** CPU ms per frame, start-up excluded: (CPU for N frames - CPU for 1 frame) / (N - 1). */
async function cpuPerFrame(
  clip: string,
  passthrough: boolean,
): Promise<{ ms: number | undefined; passedThrough: number }> {
  const samples: (number | undefined)[] = [];
  let passedThrough = 0;
  for (let run = 0; run < RUNS; run++) {
    const one = await senderCpu(clip, 1, passthrough);
    const many = await senderCpu(clip, PASSTHROUGH_FRAMES, passthrough);
    passedThrough = many.passedThrough;
    samples.push(
      one.usage === undefined || many.usage === undefined
        ? undefined
        : ((many.usage.cpuSeconds - one.usage.cpuSeconds) * 1000) / (PASSTHROUGH_FRAMES - 1),
    );
  }
  return { ms: median(samples), passedThrough };
}

async function main(): Promise<void> {
  const loadAtStart = loadavg();
  const lines: string[] = [];
  const push = (...more: string[]): void => void lines.push(...more);
  push("# Multicast fan-out and JPEG pass-through", "");
  push(
    `Generated by \`node tools/bench/dist/multicast.js${quick ? " --quick" : ""}\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Linux ${release()}, Node ${process.version}; load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(" ")}. Each figure is the median of ${RUNS} run(s).`,
    "",
  );

  push("## Multicast: one sender, N receivers", "");
  const made = createLan(1 + Math.max(...RECEIVER_COUNTS));
  if (made.kind === "refused") {
    push(`Not measured: the kernel refused the network namespaces (${made.reason}).`, "");
  } else {
    lan = made.lan;
    push(
      `JPEG 640x480 test pattern at 25 fps, ${FANOUT_FRAMES} frames, to ${GROUP}, 1,472-byte datagrams with 10% FEC (the defaults for a group). Every host is a network namespace on one Linux bridge; the receivers record MJPG as it arrives and every frame is judged from its pixels. *Wire* is what the sender's interface transmitted (its eth0 counters).`,
      "",
      "| receivers | sender CPU s (whole run) | wire MB | datagrams | intact frames at each receiver |",
      "| ---: | ---: | ---: | ---: | --- |",
    );
    for (const count of RECEIVER_COUNTS) {
      const runs: FanoutRun[] = [];
      for (let run = 0; run < RUNS; run++) {
        log(`fan-out to ${count} receiver(s), run ${run + 1}/${RUNS}`);
        runs.push(await fanout(lan, count));
      }
      const intact = runs.at(-1)?.intact ?? [];
      push(
        `| ${count} | ${f2(median(runs.map((r) => r.senderCpuSeconds)))} | ${f1(median(runs.map((r) => r.wireMB)))} | ${median(runs.map((r) => r.datagrams)) ?? "n/a"} | ${intact.map((n) => `${n}/${FANOUT_FRAMES}`).join(", ")} |`,
      );
    }
    push(
      "",
      "The sender sends one copy whatever the number of receivers: its CPU, its datagrams and the bytes its interface transmits do not grow with N (the bridge copies each datagram to every port).",
      "",
    );
    lan.remove();
    lan = undefined;
  }

  push("## JPEG pass-through against decode + re-encode (sender)", "");
  push(
    `An MJPG AVI of the test pattern, \`--codec jpeg\`, ${PASSTHROUGH_FRAMES} frames at up to 100 fps to a receiver on loopback. CPU per frame is the sender's user + system time (GNU time) for ${PASSTHROUGH_FRAMES} frames less that for 1 frame (start-up), over ${PASSTHROUGH_FRAMES - 1}. *Pass-through* reads the file's packets (raw mode, \`CAP_PROP_FORMAT = -1\`) and sends them; *re-encode* (\`--jpeg-passthrough off\`) decodes each frame and encodes it again at quality 80.`,
    "",
    "| size | pass-through ms/frame | re-encode ms/frame | saved |",
    "| --- | ---: | ---: | ---: |",
  );
  for (const [width, height] of [
    [640, 480],
    [1280, 720],
  ] as const) {
    const clip = join(dir, `clip-${width}x${height}.avi`);
    await writePatternClip(clip, { width, height, frames: PASSTHROUGH_FRAMES });
    log(`pass-through ${width}x${height}`);
    const through = await cpuPerFrame(clip, true);
    const again = await cpuPerFrame(clip, false);
    const saved =
      through.ms === undefined || again.ms === undefined || again.ms <= 0
        ? "n/a"
        : `${(100 * (1 - through.ms / again.ms)).toFixed(0)}%`;
    const note = through.passedThrough === PASSTHROUGH_FRAMES ? "" : ` (only ${through.passedThrough} passed through)`;
    push(`| ${width}x${height}${note} | ${f2(through.ms)} | ${f2(again.ms)} | ${saved} |`);
  }
  push(
    "",
    "Pass-through costs about the same at any size (a packet read and a copy); decode + re-encode grows with the pixels. What goes on the wire differs too: pass-through sends the source's JPEG at the source's quality, re-encoding sends `--quality`'s.",
    "",
  );
  writeReport(OUT, lines);
  log(`wrote ${OUT}`);
}

await runBench(main, log, cleanup);
