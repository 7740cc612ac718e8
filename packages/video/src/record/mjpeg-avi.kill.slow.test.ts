// What a SIGKILL mid-recording leaves of an MJPEG AVI, measured: a child process (the
// built dist) encodes the 640x480 test pattern to JPEG and writes it with
// openMjpegAviWriter as fast as it can, printing the count after each write, and is
// killed once it has written `frames`. The file has no idx1; FFmpeg and OpenCV must
// still read every frame the child saw written, in order.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { AVIF_HASINDEX } from "./mjpeg-avi-layout.js";
import { readPatternFrameNumber } from "../testing/pattern-inspection.js";
import { openVideoFile } from "../source/video-file.js";

const DIST = pathToFileURL(join(import.meta.dirname, "..", "..", "dist", "index.js")).href;
/** The writer is not in the package's index: its built module. */
const WRITER = pathToFileURL(join(import.meta.dirname, "..", "..", "dist", "record", "mjpeg-avi.js")).href;
const dir = mkdtempSync(join(tmpdir(), "udpcam-mjpeg-kill-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CHILD = `
const [distUrl, writerUrl, path] = process.argv.slice(1);
const v = await import(distUrl);
const { openMjpegAviWriter } = await import(writerUrl);
const writer = await openMjpegAviWriter(path, { width: 640, height: 480, fps: 25 });
for (let n = 0; ; n++) {
  await writer.writeJpeg(v.encodeJpeg(v.renderPatternFrame(n, 640, 480), 80));
  process.stdout.write(writer.framesWritten + "\\n");
}
`;

/** Runs the writer until it has written `frames` frames, then SIGKILLs it; returns the last count it printed. */
async function writeAndKill(path: string, frames: number): Promise<number> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", CHILD, DIST, WRITER, path], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let written = 0;
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      written = Number(line);
      if (written >= frames && child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        resolve();
      }
    });
    child.on("exit", (code, signal) =>
      signal === "SIGKILL" ? resolve() : reject(new Error(`writer exited early: ${code}`)),
    );
  });
  await new Promise((resolve) => child.on("close", resolve));
  return written;
}

function ffprobeCounts(path: string): { header: number; read: number } {
  const out = execFileSync(
    "ffprobe",
    [
      "-v",
      "error",
      "-count_frames",
      "-select_streams",
      "v:0",
      "-show_entries",
      "stream=nb_frames,nb_read_frames",
      "-of",
      "json",
      path,
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  );
  const stream = (JSON.parse(out) as { streams: { nb_frames: string; nb_read_frames: string }[] }).streams[0];
  return { header: Number(stream?.nb_frames), read: Number(stream?.nb_read_frames) };
}

async function patternNumbers(path: string): Promise<(number | undefined)[]> {
  const numbers: (number | undefined)[] = [];
  for await (const frame of await openVideoFile(path, { pace: "asap" })) numbers.push(readPatternFrameNumber(frame));
  return numbers;
}

const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

describe("MJPEG AVI writer killed with SIGKILL", () => {
  it.each([3, 290])(
    "after %i frames: FFmpeg and OpenCV read every frame written, without an index",
    async (frames) => {
      const path = join(dir, `killed-${frames}.avi`);
      const written = await writeAndKill(path, frames);
      const bytes = readFileSync(path);
      expect(bytes.readUInt32LE(44) & AVIF_HASINDEX).toBe(0); // never closed: no idx1
      const probe = ffprobeCounts(path);
      const numbers = await patternNumbers(path);
      const clean = numbers.filter((n) => n !== undefined).length;
      console.log(
        `SIGKILL after ${written} frames written: file ${bytes.byteLength} bytes, header ${probe.header} frames, ` +
          `ffprobe read ${probe.read}, OpenCV read ${numbers.length} (${clean} clean)`,
      );
      // The child kept writing until the signal landed: the file holds at least what it reported.
      expect(probe.header).toBeGreaterThanOrEqual(written);
      expect(probe.read).toBeGreaterThanOrEqual(written);
      expect(numbers.slice(0, clean)).toEqual(range(0, clean));
      expect(clean).toBeGreaterThanOrEqual(written);
      // At most one damaged frame (a chunk cut off inside the write), and only at the end.
      expect(numbers.length - clean).toBeLessThanOrEqual(1);
    },
    60_000,
  );
});
