/**
 * Speed of the wire format on this machine: packetize and reassemble 640x480 raw frames and
 * JPEG-sized (40 KB) frames, FEC off and at 10%; the FEC bulk loop on JavaScript against
 * WebAssembly SIMD; and the share of 40 KB frames that survive 1% random datagram loss. Prints
 * markdown and writes it to docs/benchmarks/protocol.md.
 * Run with `pnpm --filter @udpcam/protocol bench` (after build).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { encodeParityWith, recoverDataWith } from "../fec.js";
import { createGfSimd, type GfSimd } from "../gf256-simd.js";
import { mulAdd } from "../gf256.js";
import { HEADER_BYTES, DEFAULT_MAX_DATAGRAM_BYTES } from "../header.js";
import { packetizeFrame, type FrameToSend, type PacketizeOptions } from "../packetize.js";
import { createReassembler } from "../reassembler.js";
import { chunkCount, fecLayout } from "../slots.js";
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
const RAW: FrameToSend = {
  streamId: 1,
  frameNumber: 0,
  codec: "raw-bgr24",
  width: 640,
  height: 480,
  fps: 25,
  timestampMs: 0,
  payload: randomBytes(random, 921_600),
};
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
      for (let d = dropFirst; d < datagrams.length; d++)
        for (const e of r.push(datagrams[d]!, 0)) if (e.type === "frame") done = true;
      if (!done) throw new Error("frame not reassembled");
    });
    rows.push({
      what,
      frame: label,
      fec,
      fps,
      bytes: frame.payload.length,
      note: dropFirst > 0 ? "rebuilt by FEC" : "in order, no loss",
    });
  }
  return rows;
}

interface Group {
  readonly data: Uint8Array[];
  readonly parity: Uint8Array[];
}

/** The FEC groups of `payload` as packetizeFrame forms them at the default datagram size and 10%. */
function groupsOf(payload: Uint8Array): Group[] {
  const chunkBytes = DEFAULT_MAX_DATAGRAM_BYTES - HEADER_BYTES;
  const k = chunkCount(payload.length, chunkBytes);
  const { groups, parityPerGroup } = fecLayout(k, 0.1);
  return Array.from({ length: groups }, (_, g) => {
    const data: Uint8Array[] = [];
    for (let i = g; i < k; i += groups)
      data.push(payload.subarray(i * chunkBytes, Math.min(payload.length, (i + 1) * chunkBytes)));
    return { data, parity: Array.from({ length: parityPerGroup }, () => new Uint8Array(chunkBytes)) };
  });
}

interface FecRow {
  readonly what: string;
  readonly bytes: number;
  readonly js: number;
  readonly simd: number;
  readonly note: string;
}

/**
 * The bulk loop alone (mulAdd on one 1,428-byte chunk), then encodeParity and recoverData over
 * whole frames, each on the JavaScript loop and on the SIMD kernel.
 */
function measureFec(simd: GfSimd): FecRow[] {
  const rows: FecRow[] = [];
  const n = DEFAULT_MAX_DATAGRAM_BYTES - HEADER_BYTES;
  const src = randomBytes(random, n);
  const dst = randomBytes(random, n);
  const batch = 100;
  const jsMulAdd = rate(() => {
    for (let i = 0; i < batch; i++) mulAdd(dst, src, 0x8e);
  });
  // The kernel on data already in its memory: a 1 x 1 matrix product on laid-out slots.
  simd.layout(2, n);
  simd.put(0, src);
  simd.put(1, dst);
  const coef = Uint8Array.of(0x8e);
  const simdInMemory = rate(() => {
    for (let i = 0; i < batch; i++) simd.mulAddRows(coef, 1, 1, 0, 1);
  });
  const simdCopied = rate(() => {
    for (let i = 0; i < batch; i++) simd.mulAdd(dst, src, 0x8e);
  });
  rows.push({
    what: "mulAdd, data in the module's memory",
    bytes: n * batch,
    js: jsMulAdd,
    simd: simdInMemory,
    note: "dst ^= c * src on one 1,428-byte chunk",
  });
  rows.push({
    what: "mulAdd, copying src and dst in, dst out",
    bytes: n * batch,
    js: jsMulAdd,
    simd: simdCopied,
    note: "the same, one call at a time (not how FEC uses it)",
  });

  for (const [label, frame] of [
    ["raw 640x480", RAW.payload],
    ["JPEG-sized", JPEG.payload],
  ] as const) {
    const groups = groupsOf(frame);
    const k = groups.reduce((sum, g) => sum + g.data.length, 0);
    const m = groups[0]!.parity.length;
    const shape = `${k} data chunks, ${groups.length} group${groups.length > 1 ? "s" : ""} x ${m} parity`;
    const encode = (kernel: GfSimd | undefined) =>
      rate(() => groups.forEach((g) => encodeParityWith(kernel, g.data, g.parity)));
    rows.push({
      what: `encodeParity, ${label} frame`,
      bytes: frame.length,
      js: encode(undefined),
      simd: encode(simd),
      note: shape,
    });
    for (const lost of [1, m]) {
      const out = new Uint8Array(n);
      const recover = (kernel: GfSimd | undefined) =>
        rate(() =>
          groups.forEach((g) => {
            const count = recoverDataWith(
              kernel,
              g.data.map((d, j) => (j < lost ? undefined : d)),
              g.parity,
              () => out,
            );
            if (count !== lost) throw new Error("not rebuilt");
          }),
        );
      const note =
        lost === 1
          ? "first data chunk of each group lost (XOR shortcut in JavaScript)"
          : `first ${lost} data chunks of each group lost (all its parity used)`;
      rows.push({
        what: `recoverData, ${label} frame`,
        bytes: frame.length,
        js: recover(undefined),
        simd: recover(simd),
        note,
      });
    }
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

  const simd = createGfSimd();
  const fec = simd === undefined ? [] : measureFec(simd);

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
    simd === undefined
      ? "- FEC runs on the JavaScript loop: this runtime has no WebAssembly SIMD."
      : "- FEC in the first table runs on WebAssembly SIMD; the JavaScript loop that takes over where it is missing is compared below.",
    "",
    "| what | frame | FEC | frames/s | ms/frame | MB/s | note |",
    "| --- | --- | --- | ---: | ---: | ---: | --- |",
    ...rows.map(
      (r) =>
        `| ${r.what} | ${r.frame} | ${r.fec} | ${r.fps.toFixed(0)} | ${(1000 / r.fps).toFixed(3)} | ${mb(r.fps * r.bytes)} | ${r.note} |`,
    ),
    "",
    "## FEC bulk loop: JavaScript against WebAssembly SIMD",
    "",
    simd === undefined
      ? "WebAssembly SIMD is not available in this runtime: nothing to compare."
      : "MB/s of chunk bytes for mulAdd, of frame bytes for the rest; ms per call (mulAdd: per 100 calls), per frame for the rest. 10% FEC at 1,472-byte datagrams, as packetizeFrame lays it out.",
    "",
    "| what | JavaScript MB/s | SIMD MB/s | JavaScript ms | SIMD ms | speed-up | note |",
    "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ...fec.map(
      (r) =>
        `| ${r.what} | ${mb(r.js * r.bytes)} | ${mb(r.simd * r.bytes)} | ${(1000 / r.js).toFixed(3)} | ${(1000 / r.simd).toFixed(3)} | ${(r.simd / r.js).toFixed(1)}x | ${r.note} |`,
    ),
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
