/**
 * Frames per second of the video building blocks on this machine. Prints a markdown
 * table and writes it to docs/benchmarks/video.md (from the repository root).
 * Run with `pnpm --filter @udpcam/video bench` (after build).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  decodeJpeg,
  encodeJpeg,
  type Frame,
  openRecorder,
  opencvVersion,
  renderPatternFrame,
  resizeFrame,
} from "../index.js";

interface Row {
  readonly what: string;
  readonly size: string;
  readonly fps: number;
  readonly note: string;
}

const ROUNDS = 3;

/**
 * Calls per second of `step`: after a short warm-up, ROUNDS rounds of `seconds`
 * each, and the median round (the machine may be shared with other work).
 */
async function rate(step: (i: number) => unknown, seconds = 1): Promise<number> {
  let count = 0;
  for (; count < 5; count++) await step(count);
  const rounds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    let calls = 0;
    while (performance.now() - start < seconds * 1000) {
      await step(count++);
      calls++;
    }
    rounds.push(calls / ((performance.now() - start) / 1000));
  }
  return rounds.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)] ?? 0;
}

const SIZES = [
  [640, 480],
  [1280, 720],
] as const;
const QUALITY = 80;

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const [w, h] of SIZES) {
    rows.push({
      what: "test pattern: renderPatternFrame",
      size: `${w}x${h}`,
      fps: await rate((i) => renderPatternFrame(i, w, h)),
      note: "pure JS",
    });
  }
  for (const [w, h] of SIZES) {
    // Encode distinct frames so nothing is cached; decode the JPEGs of those frames.
    const frames: Frame[] = Array.from({ length: 25 }, (_, i) => renderPatternFrame(i, w, h));
    const jpegs = frames.map((f) => encodeJpeg(f, QUALITY));
    const meanBytes = Math.round(jpegs.reduce((sum, j) => sum + j.byteLength, 0) / jpegs.length);
    rows.push({
      what: `JPEG encode q=${QUALITY}: encodeJpeg`,
      size: `${w}x${h}`,
      fps: await rate((i) => encodeJpeg(frames[i % frames.length] as Frame, QUALITY)),
      note: `${meanBytes} bytes/frame`,
    });
    rows.push({
      what: `JPEG decode q=${QUALITY}: decodeJpeg`,
      size: `${w}x${h}`,
      fps: await rate((i) => decodeJpeg(jpegs[i % jpegs.length] as Uint8Array)),
      note: "to bgr24",
    });
  }
  const big = renderPatternFrame(0, 1280, 720);
  rows.push({
    what: "resizeFrame to 640x480",
    size: "1280x720",
    fps: await rate(() => resizeFrame(big, 640, 480)),
    note: "INTER_AREA",
  });

  const dir = mkdtempSync(join(tmpdir(), "udpcam-bench-"));
  try {
    const frames: Frame[] = Array.from({ length: 50 }, (_, i) => renderPatternFrame(i, 640, 480));
    const recorder = await openRecorder(join(dir, "bench.avi"), { fourcc: "DIVX", fps: 25 });
    const fps = await rate((i) => recorder.write(frames[i % frames.length] as Frame).then(() => recorder.flush()));
    const stats = await recorder.close();
    rows.push({
      what: "DIVX recording: openRecorder write+flush",
      size: "640x480",
      fps,
      note: `${stats.framesWritten} frames, AVI`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const cpu = cpus();
  const lines = [
    "# @udpcam/video benchmarks",
    "",
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${cpu[0]?.model.trim() ?? "unknown CPU"}, ${cpu.length} cores`,
    `- Node ${process.version}, OpenCV ${opencvVersion()} (@u4/opencv4nodejs 7.1.2, Debian build)`,
    `- Frames of the test pattern; one call at a time (synchronous); each number is the median of ${ROUNDS} one-second rounds.`,
    `- Load average when done: ${loadavg()[0]?.toFixed(2)} (the machine may be shared: compare numbers from one run).`,
    "",
    "| what | size | frames/s | ms/frame | note |",
    "| --- | --- | ---: | ---: | --- |",
    ...rows.map((r) => `| ${r.what} | ${r.size} | ${r.fps.toFixed(0)} | ${(1000 / r.fps).toFixed(2)} | ${r.note} |`),
    "",
  ];
  const markdown = lines.join("\n");
  process.stdout.write(markdown);
  const out = fileURLToPath(new URL("../../../../docs/benchmarks/video.md", import.meta.url));
  mkdirSync(fileURLToPath(new URL("../../../../docs/benchmarks/", import.meta.url)), { recursive: true });
  writeFileSync(out, markdown);
  process.stdout.write(`\nwritten to ${out}\n`);
}

await main();
