// What a SIGKILL mid-recording leaves behind, measured: the recorder runs in a child
// process (built dist) writing the 640x480 test pattern at 25 fps in real time, and
// is killed after about 4 seconds. The numbers are printed; the assertions hold what
// was measured on this machine (see README "Recording and SIGKILL").
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { readPatternFrameNumber } from "../testing/pattern-inspection.js";
import { openVideoFile } from "../source/video-file.js";

const DIST = pathToFileURL(join(import.meta.dirname, "..", "..", "dist", "index.js")).href;
const dir = mkdtempSync(join(tmpdir(), "udpcam-kill-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CHILD = `
const [distUrl, path, segmentSeconds] = process.argv.slice(1);
const v = await import(distUrl);
const recorder = await v.openRecorder(path, { fps: 25, ...(segmentSeconds === "-" ? {} : { segmentSeconds: Number(segmentSeconds) }) });
const source = await v.openTestPattern({ width: 640, height: 480, fps: 25 });
for await (const frame of source) {
  await recorder.write(frame);
  await recorder.flush();
  process.stdout.write(recorder.framesWritten + "\\n");
}
`;

/** Runs the recorder until it has written `frames` frames, then SIGKILLs it. */
async function recordAndKill(path: string, segmentSeconds: number | undefined, frames: number): Promise<number> {
  const child = spawn(
    process.execPath,
    ["--input-type=module", "-e", CHILD, DIST, path, String(segmentSeconds ?? "-")],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let written = 0;
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      written = Number(line);
      if (written >= frames) {
        child.kill("SIGKILL");
        resolve();
      }
    });
    child.on("exit", (code, signal) =>
      signal === "SIGKILL" ? resolve() : reject(new Error(`recorder exited early: ${code}`)),
    );
  });
  await new Promise((resolve) => child.on("close", resolve));
  // The encoder runs in a process of its own, which sees its recorder gone and exits
  // without finalizing (it may first finish the frame it is encoding): what is on disk
  // is what the encoder had written: every frame for MPEG-4 Part 2 (native/video_writer.c flushes each one).
  for (let waited = 0; encoderRunning(path) && waited < 10_000; waited += 20) await sleep(20);
  expect(encoderRunning(path)).toBe(false);
  return written;
}

/** Whether an encoder process has `path` or one of its segments open (readlink of /proc/<pid>/fd/*). */
function encoderRunning(path: string): boolean {
  const ext = extname(path);
  const stem = path.slice(0, path.length - ext.length);
  return readdirSync("/proc").some((entry) => {
    try {
      if (!(readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0")[1] ?? "").endsWith("encoder-process.js"))
        return false;
      return readdirSync(`/proc/${entry}/fd`).some((fd) => {
        const file = readlinkSync(`/proc/${entry}/fd/${fd}`);
        return file === path || (file.startsWith(`${stem}-`) && file.includes(ext));
      });
    } catch {
      return false; // not a process, or gone meanwhile
    }
  });
}

function ffprobeFrames(path: string): number | string {
  try {
    const out = execFileSync(
      "ffprobe",
      [
        "-v",
        "error",
        "-count_frames",
        "-select_streams",
        "v:0",
        "-show_entries",
        "stream=nb_read_frames",
        "-of",
        "csv=p=0",
        path,
      ],
      {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    return Number(out.trim());
  } catch (error) {
    return `unreadable (${
      String((error as { stderr?: string }).stderr ?? error)
        .trim()
        .split("\n")[0]
    })`;
  }
}

/** Frame numbers of the frames that decode and read cleanly, in file order. */
async function readableNumbers(path: string): Promise<number[]> {
  const numbers: number[] = [];
  try {
    for await (const frame of await openVideoFile(path, { pace: "asap" })) {
      const n = readPatternFrameNumber(frame);
      if (n !== undefined) numbers.push(n);
    }
  } catch {
    // unreadable file: no frames
  }
  return numbers;
}

const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

describe("recording killed with SIGKILL", () => {
  it("one AVI: every frame the recorder was told is written survives, without an index", async () => {
    const path = join(dir, "single.avi");
    const written = await recordAndKill(path, undefined, 100);
    const size = statSync(path).size;
    const probe = ffprobeFrames(path);
    const numbers = await readableNumbers(path);
    console.log(
      `SIGKILL, one AVI: ${written} frames written, file ${size} bytes, ffprobe: ${probe} frames, clean pattern frames read back: ${numbers.length}`,
    );
    // Each frame is flushed to the file as it is encoded; the encoder may finish one more before it sees the kill.
    expect(numbers).toEqual(range(0, numbers.length));
    expect(numbers.length).toBeGreaterThanOrEqual(written);
    expect(probe).toBe(numbers.length);
  }, 60_000);

  it("segmentSeconds: 1: every finished segment is complete and playable; the loss is bounded by the last segment", async () => {
    const path = join(dir, "seg.avi");
    const written = await recordAndKill(path, 1, 100);
    const files = readdirSync(dir)
      .filter((name) => name.startsWith("seg-"))
      .sort();
    // Segment k is finalized when frame 25(k+1) arrives: with 100 written, seg-003 is still open.
    const finished = Math.floor((written - 1) / 25);
    expect(files.slice(0, finished)).toEqual(range(0, finished).map((i) => `seg-${String(i).padStart(3, "0")}.avi`));
    const all: number[] = [];
    for (const [i, name] of files.entries()) {
      const numbers = await readableNumbers(join(dir, name));
      const probe = ffprobeFrames(join(dir, name));
      console.log(`SIGKILL, segmented: ${name}: ffprobe ${probe} frames, ${numbers.length} clean pattern frames`);
      if (i < finished) {
        expect(probe).toBe(25);
        expect(numbers).toEqual(range(i * 25, 25));
      }
      all.push(...numbers);
    }
    console.log(`SIGKILL, segmented: ${written} frames written, ${all.length} readable in ${files.length} files`);
    expect(all).toEqual(range(0, all.length));
    expect(all.length).toBeGreaterThanOrEqual(written - 25);
  }, 60_000);
});
