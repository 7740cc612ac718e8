import { execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { VideoError } from "../errors.js";
import type { Frame } from "../frame.js";
import { psnr } from "../testing/psnr.js";
import { renderPatternFrame } from "../source/pattern.js";
import { inspectPatternFrame, readPatternFrameNumber } from "../testing/pattern-inspection.js";
import { ACKNOWLEDGE_MS } from "./encoder-wire.js";
import { openRecorder } from "./recorder.js";
import { FrameMemory, FrameMemorySlots } from "./frame-memory.js";
import { makeReadOnly } from "../testing/read-only-path.js";
import { openVideoFile } from "../source/video-file.js";

const dir = mkdtempSync(join(tmpdir(), "udpcam-recorder-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Frames ffprobe decodes, counted one by one (not the header's claim). */
export function ffprobeFrameCount(path: string): number {
  const out = execFileSync(
    "ffprobe",
    [
      "-v",
      "error",
      "-count_frames",
      "-select_streams",
      "v:0",
      "-show_entries",
      "stream=nb_read_frames,codec_name",
      "-of",
      "json",
      path,
    ],
    { encoding: "utf8" },
  );
  const stream = (JSON.parse(out) as { streams: { nb_read_frames: string; codec_name: string }[] }).streams[0];
  return Number(stream?.nb_read_frames);
}

async function readAll(path: string): Promise<Frame[]> {
  const source = await openVideoFile(path, { pace: "asap" });
  const frames: Frame[] = [];
  for await (const frame of source) frames.push(frame);
  return frames;
}

// DIVX at OpenCV's default quality on the 640x480 pattern: worst frame measured 38.1 dB.
const DIVX_PSNR_AT_LEAST = 35;

describe("openRecorder", () => {
  it("records the test pattern to DIVX AVI that reads back frame for frame", async () => {
    const path = join(dir, "pattern.avi");
    const recorder = await openRecorder(path, { fps: 25 });
    const count = 60;
    for (let n = 0; n < count; n++) await recorder.write(renderPatternFrame(n, 640, 480));
    const stats = await recorder.close();
    expect(stats).toEqual({ framesWritten: count, framesDropped: 0, framesScaled: 0, files: [path] });

    expect(ffprobeFrameCount(path)).toBe(count);
    const codec = execFileSync(
      "ffprobe",
      ["-v", "error", "-show_entries", "stream=codec_name,codec_tag_string,avg_frame_rate", "-of", "csv=p=0", path],
      {
        encoding: "utf8",
      },
    );
    expect(codec.trim()).toBe("mpeg4,DIVX,25/1");

    const frames = await readAll(path);
    expect(frames).toHaveLength(count);
    let worst = Infinity;
    frames.forEach((frame, n) => {
      expect(frame.sequence).toBe(n);
      expect(inspectPatternFrame(frame)).toEqual({ top: n, bottom: n, torn: false });
      const db = psnr(renderPatternFrame(n, 640, 480), frame);
      worst = Math.min(worst, db);
      expect(db, `frame ${n}`).toBeGreaterThan(DIVX_PSNR_AT_LEAST);
    });
    console.log(`DIVX 640x480: worst PSNR ${worst.toFixed(1)} dB over ${count} frames, ${statSync(path).size} bytes`);
    // Pixels, not just counts: frame 10 read back is not frame 11.
    expect(psnr(renderPatternFrame(11, 640, 480), frames[10] as Frame)).toBeLessThan(DIVX_PSNR_AT_LEAST);
  });

  it("copies each frame into the encoder's shared slots: the caller's buffer is free once write returns", async () => {
    const path = join(dir, "slots.avi");
    // Fewer slots than frames: every slot is used again, after the encoder said it was done with it.
    const recorder = await openRecorder(path, { fps: 25, queueLimit: 2 });
    const buffer = renderPatternFrame(0, 640, 480);
    const count = 12;
    for (let n = 0; n < count; n++) {
      buffer.bytes.set(renderPatternFrame(n, 640, 480).bytes);
      let released = false;
      const written = recorder.write({ ...buffer, sequence: n }, () => (released = true));
      // The queue had room: released before write() returns, the bytes being in a slot already.
      expect(released, `frame ${n}`).toBe(true);
      buffer.bytes.fill(n % 2 === 0 ? 0 : 255);
      await written;
      // Two frames in flight at a time, then room again.
      if (n % 2 === 1) await recorder.flush();
    }
    expect(await recorder.close()).toMatchObject({ framesWritten: count, framesDropped: 0 });
    const frames = await readAll(path);
    expect(frames.map((frame) => inspectPatternFrame(frame))).toEqual(
      Array.from({ length: count }, (_, n) => ({ top: n, bottom: n, torn: false })),
    );
    frames.forEach((frame, n) =>
      expect(psnr(renderPatternFrame(n, 640, 480), frame)).toBeGreaterThan(DIVX_PSNR_AT_LEAST),
    );
  });

  it("records frames in the caller's frame memory without a copy: each is released once encoded, its slot reused after", async () => {
    const path = join(dir, "lent.avi");
    const memory = FrameMemory.create();
    if (memory === undefined) throw new Error("no memfd on this machine: the frame memory cannot be tested");
    try {
      const recorder = await openRecorder(path, { fps: 25, queueLimit: 4, frameMemory: memory });
      const layout = memory.reserve(640 * 480 * 3)!;
      // The ingest's side: it completes frames in the slots, which come back once released.
      const slots = FrameMemorySlots.map(memory.fd, layout)!;
      const count = layout.count + 6;
      const releases: (() => void)[] = [];
      for (let n = 0; n < count; n++) {
        const taken = slots.take(640 * 480 * 3);
        if (taken === undefined) throw new Error(`no free slot for frame ${n}`);
        taken.set(renderPatternFrame(n, 640, 480).bytes);
        const slot = slots.slotOf(taken)!;
        let released = false;
        await recorder.write({ ...renderPatternFrame(n, 640, 480), bytes: memory.view(slot, taken.byteLength) }, () => {
          released = true;
          slots.free(slot);
        });
        // Lent, not copied: the encoder reads the slot itself, so it stays taken until encoded.
        expect(released, `frame ${n} released at write`).toBe(false);
        releases.push(() => expect(released, `frame ${n} released once encoded`).toBe(true));
        if (n % 4 === 3) {
          await recorder.flush();
          releases.splice(0).forEach((check) => check());
        }
      }
      expect(await recorder.close()).toMatchObject({ framesWritten: count, framesDropped: 0 });
      releases.forEach((check) => check());
      expect(slots.freeSlots).toBe(layout.count);
      const frames = await readAll(path);
      expect(frames.map((frame) => inspectPatternFrame(frame))).toEqual(
        Array.from({ length: count }, (_, n) => ({ top: n, bottom: n, torn: false })),
      );
      frames.forEach((frame, n) =>
        expect(psnr(renderPatternFrame(n, 640, 480), frame), `frame ${n}`).toBeGreaterThan(DIVX_PSNR_AT_LEAST),
      );
    } finally {
      memory.close();
    }
  });

  it("with a frame memory, frames outside it are copied into the encoder's slots as before", async () => {
    const path = join(dir, "not-lent.avi");
    const memory = FrameMemory.create()!;
    try {
      memory.reserve(320 * 240 * 3);
      const recorder = await openRecorder(path, { fps: 25, frameMemory: memory });
      let released = 0;
      for (let n = 0; n < 5; n++) await recorder.write(renderPatternFrame(n, 640, 480), () => released++);
      expect(released).toBe(5);
      expect(await recorder.close()).toMatchObject({ framesWritten: 5 });
      expect((await readAll(path)).map((frame) => inspectPatternFrame(frame).top)).toEqual([0, 1, 2, 3, 4]);
    } finally {
      memory.close();
    }
  });

  it("scales frames of another size to the first frame's size", async () => {
    const path = join(dir, "scaled.avi");
    const recorder = await openRecorder(path);
    await recorder.write(renderPatternFrame(0, 640, 480));
    await recorder.write(renderPatternFrame(1, 1280, 720));
    await recorder.write(renderPatternFrame(2, 320, 240));
    expect(await recorder.close()).toMatchObject({ framesWritten: 3, framesScaled: 2 });
    const frames = await readAll(path);
    expect(frames.map((f) => [f.width, f.height, readPatternFrameNumber(f)])).toEqual([
      [640, 480, 0],
      [640, 480, 1],
      [640, 480, 2],
    ]);
  });

  it("refuses frames of another size when asked to, and the file stays valid", async () => {
    const path = join(dir, "strict.avi");
    const recorder = await openRecorder(path, { onSizeMismatch: "error" });
    await recorder.write(renderPatternFrame(0, 320, 240));
    await expect(recorder.write(renderPatternFrame(1, 640, 480))).rejects.toThrow(
      /recording .*strict\.avi is 320x240; refused a 640x480 frame/,
    );
    await recorder.write(renderPatternFrame(2, 320, 240));
    expect((await recorder.close()).framesWritten).toBe(2);
    expect(ffprobeFrameCount(path)).toBe(2);
  });

  it("writes segments out-000.avi, out-001.avi, ... of segmentSeconds each", async () => {
    const path = join(dir, "seg", "out.avi");
    execFileSync("mkdir", ["-p", join(dir, "seg")]);
    const recorder = await openRecorder(path, { fps: 10, segmentSeconds: 1 });
    for (let n = 0; n < 25; n++) await recorder.write(renderPatternFrame(n, 320, 240));
    const stats = await recorder.close();
    const names = ["out-000.avi", "out-001.avi", "out-002.avi"];
    expect(stats.files).toEqual(names.map((name) => join(dir, "seg", name)));
    expect(readdirSync(join(dir, "seg")).sort()).toEqual(names);
    expect(stats.files.map(ffprobeFrameCount)).toEqual([10, 10, 5]);
    const second = await readAll(stats.files[1] ?? "");
    expect(second.map(readPatternFrameNumber)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });

  it("drops frames when the queue is full and whenFull is drop, counting them", async () => {
    const recorder = await openRecorder(join(dir, "drop.avi"), { queueLimit: 1, whenFull: "drop" });
    const writes = [];
    for (let n = 0; n < 20; n++) writes.push(recorder.write(renderPatternFrame(n, 640, 480)));
    await Promise.all(writes);
    const stats = await recorder.close();
    expect(stats.framesDropped).toBeGreaterThan(0);
    expect(stats.framesWritten + stats.framesDropped).toBe(20);
    expect(ffprobeFrameCount(join(dir, "drop.avi"))).toBe(stats.framesWritten);
  });

  it("with whenFull wait, un-awaited writes all land, in order", async () => {
    const path = join(dir, "wait.avi");
    const recorder = await openRecorder(path, { queueLimit: 2 });
    const writes = [];
    for (let n = 0; n < 12; n++) writes.push(recorder.write(renderPatternFrame(n, 320, 240)));
    await Promise.all(writes);
    expect((await recorder.close()).framesWritten).toBe(12);
    expect((await readAll(path)).map(readPatternFrameNumber)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it("close() finalizes a file after a refused write, and is safe twice; writes after close fail", async () => {
    const path = join(dir, "closed.avi");
    const recorder = await openRecorder(path);
    await recorder.write(renderPatternFrame(0, 320, 240));
    await expect(recorder.write({ ...renderPatternFrame(1, 320, 240), width: 321 })).rejects.toThrow(/INVALID|bytes/);
    const first = await recorder.close();
    expect(await recorder.close()).toEqual(first);
    await expect(recorder.write(renderPatternFrame(2, 320, 240))).rejects.toThrow(
      expect.objectContaining({ code: "CLOSED" }),
    );
    expect(ffprobeFrameCount(path)).toBe(1);
  });

  it.each([
    [
      "an unknown fourcc",
      "x.avi",
      { fourcc: "ZZZZ" },
      "CODEC_UNSUPPORTED",
      /fourcc 'ZZZZ' is not supported in \.avi files; use one of DIVX/,
    ],
    ["a fourcc the container does not take", "x.mp4", { fourcc: "DIVX" }, "CODEC_UNSUPPORTED", /use one of mp4v, avc1/],
    ["an unknown container", "x.xyz", {}, "CODEC_UNSUPPORTED", /use a file ending in \.avi/],
    [
      "a missing folder",
      "missing/x.avi",
      {},
      "OUTPUT_NOT_WRITABLE",
      /folder .*missing does not exist or is not writable/,
    ],
    ["a folder as the path", "seg.avi", {}, "OUTPUT_NOT_WRITABLE", /is a folder/],
    ["bad fps", "x.avi", { fps: 0 }, "INVALID_OPTION", /fps/],
    ["bad segmentSeconds", "x.avi", { segmentSeconds: -1 }, "INVALID_OPTION", /segmentSeconds/],
  ])("refuses %s at open time", async (_name, file, options, code, message) => {
    execFileSync("mkdir", ["-p", join(dir, "seg.avi")]);
    const error = await openRecorder(join(dir, file), options).catch((e: unknown) => e);
    expect(VideoError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code });
    expect((error as Error).message).toMatch(message);
    expect(readdirSync(dir).filter((name) => name.includes("probe"))).toEqual([]);
  });

  // Runs as root too (CI does): there makeReadOnly uses chattr +i or a read-only bind mount, as chmod does not stop root.
  it("refuses a read-only folder and a file where the folder should be, at open time", async () => {
    const ro = join(dir, "ro");
    execFileSync("mkdir", ["-p", ro]);
    const undo = makeReadOnly(ro);
    try {
      await expect(openRecorder(join(ro, "x.avi"))).rejects.toMatchObject({
        code: "OUTPUT_NOT_WRITABLE",
        message: expect.stringContaining(`folder ${ro} does not exist or is not writable`) as unknown,
      });
    } finally {
      undo();
    }
    expect(readdirSync(ro)).toEqual([]);
    const file = join(dir, "not-a-folder");
    writeFileSync(file, "");
    await expect(openRecorder(join(file, "x.avi"))).rejects.toMatchObject({
      code: "OUTPUT_NOT_WRITABLE",
      message: expect.stringContaining(`folder ${file} does not exist or is not writable`) as unknown,
    });
  });

  it("records MJPG and mp4v as well, leaving no probe file behind", async () => {
    for (const [file, fourcc] of [
      ["m.avi", "MJPG"],
      ["m.mp4", "mp4v"],
    ] as const) {
      const path = join(dir, file);
      const recorder = await openRecorder(path, { fourcc });
      for (let n = 0; n < 5; n++) await recorder.write(renderPatternFrame(n, 320, 240));
      await recorder.close();
      expect(ffprobeFrameCount(path)).toBe(5);
      expect((await readAll(path)).map(readPatternFrameNumber)).toEqual([0, 1, 2, 3, 4]);
    }
    expect(readdirSync(dir).filter((name) => name.includes("probe"))).toEqual([]);
    expect(existsSync(join(dir, "m.mp4"))).toBe(true);
  });
});

interface EncoderProcess {
  readonly pid: number;
  /** The pid of the process that started it (its argument). */
  readonly startedBy: number;
  /** The files it has open. */
  readonly files: string[];
}

/** Encoder processes on this machine, read from /proc. */
function encoderProcesses(): EncoderProcess[] {
  const found: EncoderProcess[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (!(args[1] ?? "").endsWith("encoder-process.js")) continue;
      const files = readdirSync(`/proc/${entry}/fd`).flatMap((fd) => {
        try {
          return [readlinkSync(`/proc/${entry}/fd/${fd}`).replace(/ \(deleted\)$/, "")];
        } catch {
          return [];
        }
      });
      found.push({ pid: Number(entry), startedBy: Number(args[2]), files });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Pids of the encoder processes writing `path` or one of its segments. */
function encoderPids(path: string): number[] {
  const ext = extname(path);
  const stem = path.slice(0, path.length - ext.length);
  const writes = (file: string): boolean => file === path || (file.startsWith(`${stem}-`) && file.endsWith(ext));
  return encoderProcesses()
    .filter((encoder) => encoder.files.some(writes))
    .map((encoder) => encoder.pid);
}

describe("openRecorder's encoder process", () => {
  it("keeps the caller's event loop turning while 1280x720 DIVX is encoded, and the frames read back as written", async () => {
    const path = join(dir, "hd.avi");
    const count = 60;
    const frames = Array.from({ length: count }, (_, n) => renderPatternFrame(n, 1280, 720));
    const recorder = await openRecorder(path, { fps: 30 });
    // The encoder process starts at the first frame: not what this measures.
    await recorder.write(frames[0] as Frame);
    await recorder.flush();
    expect(encoderPids(path)).toHaveLength(1);

    const gaps: number[] = [];
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      gaps.push(now - last);
      last = now;
    }, 1);
    const started = performance.now();
    for (const frame of frames.slice(1)) await recorder.write(frame);
    const stats = await recorder.close();
    const elapsed = performance.now() - started;
    clearInterval(ticker);

    gaps.sort((a, b) => a - b);
    const at = (q: number): number => gaps[Math.min(gaps.length - 1, Math.floor(q * gaps.length))] ?? Infinity;
    console.log(
      `1280x720 DIVX, ${count - 1} frames written and closed in ${elapsed.toFixed(0)} ms; event loop: ${gaps.length} ticks, ` +
        `gaps median ${at(0.5).toFixed(1)} ms, p90 ${at(0.9).toFixed(1)}, p99 ${at(0.99).toFixed(1)}, longest ${at(1).toFixed(1)}`,
    );
    // Encoding on this thread (7-10 ms a frame with OpenCV's writer) gave one tick a frame, 7-11 ms apart (median).
    // Generous bounds: a shared 2-core machine may deschedule this thread now and then.
    expect(gaps.length).toBeGreaterThan(elapsed / 5);
    expect(at(0.5)).toBeLessThan(5);
    expect(stats).toEqual({ framesWritten: count, framesDropped: 0, framesScaled: 0, files: [path] });
    expect(encoderPids(path)).toEqual([]);
    // The caller's frames are left as they were: not taken over, not changed.
    // (Buffer.equals: toEqual compares 2.7 MB element by element, for seconds.)
    expect(frames.every((frame, n) => Buffer.from(frame.bytes).equals(renderPatternFrame(n, 1280, 720).bytes))).toBe(
      true,
    );

    expect(ffprobeFrameCount(path)).toBe(count);
    const back = await readAll(path);
    expect(back).toHaveLength(count);
    let worst = Infinity;
    back.forEach((frame, n) => {
      expect(inspectPatternFrame(frame)).toEqual({ top: n, bottom: n, torn: false });
      const db = psnr(frames[n] as Frame, frame);
      worst = Math.min(worst, db);
      expect(db, `frame ${n}`).toBeGreaterThan(DIVX_PSNR_AT_LEAST);
    });
    console.log(`DIVX 1280x720 from the encoder process: worst PSNR ${worst.toFixed(1)} dB over ${count} frames`);
    expect(psnr(frames[11] as Frame, back[10] as Frame)).toBeLessThan(DIVX_PSNR_AT_LEAST);
  }, 60_000);

  it("flush() asks the encoder for its acknowledgement: it does not wait out the encoder's hold", async () => {
    const path = join(dir, "flush.avi");
    const recorder = await openRecorder(path, { fps: 25 });
    // The encoder process starts at the first frame: not what this measures.
    await recorder.write(renderPatternFrame(0, 640, 480));
    await recorder.flush();
    const count = 10;
    const started = performance.now();
    for (let n = 1; n <= count; n++) {
      await recorder.write(renderPatternFrame(n, 640, 480));
      await recorder.flush();
      expect(recorder.framesQueued, `after frame ${n}`).toBe(0);
    }
    // Waiting out the hold, each flush would take at least ACKNOWLEDGE_MS; asked, it takes one frame's encode.
    expect(performance.now() - started).toBeLessThan((count * ACKNOWLEDGE_MS) / 2);
    expect(await recorder.close()).toMatchObject({ framesWritten: count + 1, framesDropped: 0 });
  });

  it("close() right after un-awaited writes encodes every one of them", async () => {
    const path = join(dir, "close-now.avi");
    const recorder = await openRecorder(path, { queueLimit: 2 });
    const writes = Array.from({ length: 12 }, (_, n) => recorder.write(renderPatternFrame(n, 320, 240)));
    const stats = await recorder.close();
    await Promise.all(writes);
    expect(stats).toMatchObject({ framesWritten: 12, framesDropped: 0 });
    expect((await readAll(path)).map(readPatternFrameNumber)).toEqual(Array.from({ length: 12 }, (_, n) => n));
  });

  it("an encoder process that dies makes write and close reject with WRITE_FAILED saying so, without hanging", async () => {
    const path = join(dir, "killed-encoder.avi");
    const recorder = await openRecorder(path, { queueLimit: 2 });
    await recorder.write(renderPatternFrame(0, 320, 240));
    await recorder.flush();
    const [pid] = encoderPids(path);
    process.kill(pid ?? 0, "SIGKILL");
    // Writes that wait for room, and the writes after them, end with the error.
    const writes = Array.from({ length: 6 }, (_, n) =>
      recorder.write(renderPatternFrame(n + 1, 320, 240)).catch((e: unknown) => e),
    );
    const message = /the encoder process for .*killed-encoder\.avi was killed by SIGKILL/;
    for (const result of await Promise.all(writes)) {
      if (result !== undefined)
        expect(result).toMatchObject({ code: "WRITE_FAILED", message: expect.stringMatching(message) as string });
    }
    await expect(recorder.write(renderPatternFrame(9, 320, 240))).rejects.toMatchObject({
      code: "WRITE_FAILED",
      message: expect.stringMatching(message) as string,
    });
    await expect(recorder.flush()).resolves.toBeUndefined();
    await expect(recorder.close()).rejects.toMatchObject({
      code: "WRITE_FAILED",
      message: expect.stringMatching(message) as string,
    });
    expect(recorder.framesWritten).toBe(1);
  });

  it("a segment that cannot be opened fails the recording with the encoder's CODEC_UNAVAILABLE, on write and on close", async () => {
    const folder = join(dir, "vanishing");
    execFileSync("mkdir", ["-p", folder]);
    const path = join(folder, "v.avi");
    const recorder = await openRecorder(path, { fps: 5, segmentSeconds: 1 });
    for (let n = 0; n < 5; n++) await recorder.write(renderPatternFrame(n, 320, 240));
    await recorder.flush();
    // The open file lives on (unlinked); the next segment's cannot be created.
    rmSync(folder, { recursive: true });
    await recorder.write(renderPatternFrame(5, 320, 240));
    await recorder.flush();
    const cannot = { code: "CODEC_UNAVAILABLE", message: expect.stringMatching(/DIVX to .*v-001\.avi/) as string };
    await expect(recorder.write(renderPatternFrame(6, 320, 240))).rejects.toMatchObject(cannot);
    await expect(recorder.close()).rejects.toMatchObject(cannot);
    expect({ written: recorder.framesWritten, files: recorder.files }).toEqual({
      written: 5,
      files: [join(folder, "v-000.avi")],
    });
    expect(encoderPids(path)).toEqual([]);
  });

  // Outside vitest (which keeps its own event loop busy): the encoder's handles must keep
  // a program alive exactly while there is work, so it neither exits mid-close nor hangs.
  it.each([
    [
      "writes, flushes and closes: runs to its end, the file finalized",
      "close",
      "console.log(JSON.stringify(await recorder.close()));",
      (path: string) => `${JSON.stringify({ framesWritten: 10, framesDropped: 0, framesScaled: 0, files: [path] })}\n`,
    ],
    [
      "never closes: exits once the encoder is idle, leaving no encoder process behind",
      "never",
      'console.log("queued");',
      () => "queued\n",
    ],
  ])("a program that %s", async (_name, file, last, output) => {
    const path = join(dir, `program-${file}.avi`);
    const dist = pathToFileURL(join(import.meta.dirname, "..", "..", "dist", "index.js")).href;
    const script = `
      const v = await import(${JSON.stringify(dist)});
      const recorder = await v.openRecorder(${JSON.stringify(path)});
      for (let n = 0; n < 10; n++) await recorder.write(v.renderPatternFrame(n, 320, 240));
      ${file === "close" ? "await recorder.flush();" : ""}
      ${last}
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
    let printed = "";
    child.stdout.on("data", (text: Buffer) => (printed += text.toString()));
    child.stderr.on("data", (text: Buffer) => (printed += text.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect({ code, printed }).toEqual({ code: 0, printed: output(path) });
    // Its encoders, the one it took and the one kept ready, end with it.
    const started = (): EncoderProcess[] => encoderProcesses().filter((encoder) => encoder.startedBy === child.pid);
    for (let waited = 0; started().length > 0 && waited < 5_000; waited += 50) await sleep(50);
    expect(started()).toEqual([]);
    if (file === "close") expect(ffprobeFrameCount(path)).toBe(10);
  });
});
