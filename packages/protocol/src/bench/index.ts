/**
 * Speed of the wire format on this machine: packetize and reassemble 640x480 raw frames and
 * JPEG-sized (40 KB) frames, FEC off and at 10%, and the share of 40 KB frames that survive 1%
 * random datagram loss. Prints a markdown table and writes it to docs/benchmarks/protocol.md.
 * Run with `pnpm --filter @udpcam/protocol bench` (after build).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { packetizeFrame, type FrameToSend, type PacketizeOptions } from "../packetize.js";
import { createReassembler } from "../reassembler.js";
import { runLoss } from "../testing/loss.js";
import { prng, randomBytes } from "../testing/random.js";

const ROUNDS = 3;

/** Calls per second of `step`: a warm-up, then the median of ROUNDS rounds of `seconds`. */
function rate(step: (i: number) => void, seconds = 1): number {
  let count = 0;
  for (; count < 5; count++) step(count);
  const rounds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    let calls = 0;
    while (performance.now() - start < seconds * 1000) {
      step(count++);
      calls++;
    }
    rounds.push(calls / ((performance.now() - start) / 1000));
  }
  return rounds.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)] ?? 0;
}

interface Row {
  readonly what: string;
  readonly frame: string;
  readonly fec: string;
  readonly fps: number;
  readonly bytes: number;
  readonly note: string;
}

const random = prng(1);
const RAW: FrameToSend = { streamId: 1, frameNumber: 0, codec: "raw-bgr24", width: 640, height: 480, fps: 25, timestampMs: 0, payload: randomBytes(random, 921_600) };
const JPEG: FrameToSend = { ...RAW, codec: "jpeg", payload: randomBytes(random, 40_000) };

function mb(bytesPerSecond: number): string {
  return (bytesPerSecond / 1e6).toFixed(0);
}

function measure(frame: FrameToSend, label: string, options: PacketizeOptions, lose: number): Row[] {
  const fec = options.fecOverhead === 0 ? "off" : `${Math.round((options.fecOverhead ?? 0.1) * 100)}%`;
  const rows: Row[] = [];
  const sample = packetizeFrame(frame, options);
  const wire = sample.reduce((sum, d) => sum + d.length, 0);
  rows.push({
    what: "packetizeFrame",
    frame: label,
    fec,
    fps: rate((i) => packetizeFrame({ ...frame, frameNumber: i }, options)),
    bytes: frame.payload.length,
    note: `${sample.length} datagrams, ${wire} bytes on the wire`,
  });
  // Reassemble pre-made frames (packetizing is not timed): a pool of 16, numbered in order.
  const pool = Array.from({ length: 16 }, (_, i) => packetizeFrame({ ...frame, frameNumber: i }, options));
  const cases: [string, number][] = [["reassemble", 0]];
  if (lose > 0 && options.fecOverhead !== 0) cases.push([`reassemble, first ${lose} data chunks lost`, lose]);
  for (const [what, dropFirst] of cases) {
    let r = createReassembler();
    let next = 0;
    const fps = rate((i) => {
      if (i % 16 === 0) {
        r = createReassembler();
        next = 0;
      }
      const datagrams = pool[next++]!;
      let done = false;
      for (let d = dropFirst; d < datagrams.length; d++) for (const e of r.push(datagrams[d]!, 0)) if (e.type === "frame") done = true;
      if (!done) throw new Error("frame not reassembled");
    });
    rows.push({ what, frame: label, fec, fps, bytes: frame.payload.length, note: dropFirst > 0 ? "rebuilt by FEC" : "in order, no loss" });
  }
  return rows;
}

function main(): void {
  const rows: Row[] = [];
  for (const fecOverhead of [0, 0.1]) {
    rows.push(...measure(RAW, "raw 640x480 (921,600 B)", { fecOverhead }, 14));
    rows.push(...measure(JPEG, "JPEG-sized (40,000 B)", { fecOverhead }, 3));
  }
  const large = { maxDatagramBytes: 65_507 };
  rows.push(...measure(RAW, "raw 640x480, 65,507-byte datagrams", { ...large, fecOverhead: 0 }, 0));

  const LOSS_FRAMES = 10_000;
  const loss = [
    { name: "Reed-Solomon, 10% (default: groups of up to 48, m = ceil(0.1 k))", packetize: { fecOverhead: 0.1 } },
    { name: "XOR parity, 10% (groups of 10, m = 1)", packetize: { fecOverhead: 0.1, fecGroupSize: 10 } },
    { name: "no FEC", packetize: { fecOverhead: 0 } },
  ].flatMap(({ name, packetize }) =>
    [0.01, 0.002].map((p) => {
      const run = runLoss({ frames: LOSS_FRAMES, loss: p, seed: 7, packetize });
      return `| ${name} | ${(p * 100).toFixed(1)}% | ${run.datagramsLost} / ${run.datagramsSent} | ${((100 * run.complete) / run.frames).toFixed(2)}% | ${run.frames - run.complete} | ${run.recovered} |`;
    }),
  );

  const cpu = cpus();
  const lines = [
    "# @udpcam/protocol benchmarks",
    "",
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${cpu[0]?.model.trim() ?? "unknown CPU"}, ${cpu.length} cores`,
    `- Node ${process.version}; in-process, one call at a time; each rate is the median of ${ROUNDS} one-second rounds.`,
    "- Datagrams of 1472 bytes (the default) unless said otherwise; frames are random bytes.",
    `- Load average when done: ${loadavg()[0]?.toFixed(2)} (the machine may be shared: compare numbers from one run).`,
    "",
    "| what | frame | FEC | frames/s | ms/frame | MB/s | note |",
    "| --- | --- | --- | ---: | ---: | ---: | --- |",
    ...rows.map((r) => `| ${r.what} | ${r.frame} | ${r.fec} | ${r.fps.toFixed(0)} | ${(1000 / r.fps).toFixed(3)} | ${mb(r.fps * r.bytes)} | ${r.note} |`),
    "",
    `## 40 KB frames (JPEG 640x480) through random datagram loss, ${LOSS_FRAMES.toLocaleString("en")} frames`,
    "",
    "| FEC | loss | datagrams lost | frames complete | frames lost | frames rebuilt |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...loss,
    "",
  ];
  const markdown = lines.join("\n");
  process.stdout.write(markdown);
  const dir = fileURLToPath(new URL("../../../../docs/benchmarks/", import.meta.url));
  mkdirSync(dir, { recursive: true });
  const out = `${dir}protocol.md`;
  writeFileSync(out, markdown);
  process.stdout.write(`\nwritten to ${out}\n`);
}

main();
