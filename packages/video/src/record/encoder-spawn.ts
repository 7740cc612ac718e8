/**
 * Starting encoder processes (`encoder-process.ts`): where the built script is, and
 * the spare kept ready. The checks a recording to be encoded makes at open time,
 * before any frame can be lost: container and fourcc, the folder, a one-frame probe
 * file written with the same codec next to the target, and the encoder's script.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { constants as fsConstants } from "node:fs";
import { access, stat, unlink } from "node:fs/promises";
import type { Socket } from "node:net";
import { basename, dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describeCause, VideoError } from "../errors.js";
import { cv } from "../opencv.js";
import { checkContainer } from "./formats.js";
import { checkOutputPath } from "./output-path.js";
import { openWriter } from "./segmented-writer.js";

/** The encoder's script: next to this module once built. From the sources (vitest runs src/*.ts) the built one, as a child process cannot run TypeScript. */
export function encoderScript(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith(".ts")
    ? join(dirname(here), "..", "..", "dist", "record", "encoder-process.js")
    : join(dirname(here), "encoder-process.js");
}

/** Writes one 16x16 frame with the codec next to the target, then removes it. */
async function probeCodec(path: string, fourcc: string, fps: number): Promise<void> {
  const probe = join(dirname(path), `.${basename(path)}.probe-${process.pid}${extname(path)}`);
  try {
    const writer = openWriter(probe, fourcc, fps, 16, 16);
    try {
      writer.write(new cv.Mat(16, 16, cv.CV_8UC3, Buffer.alloc(16 * 16 * 3, 128)));
    } finally {
      writer.release();
    }
    if (!((await stat(probe)).size > 0))
      throw new VideoError("CODEC_UNAVAILABLE", `OpenCV's FFmpeg wrote nothing for ${fourcc}`);
  } catch (cause) {
    if (VideoError.isInstance(cause)) {
      throw new VideoError(cause.code, `cannot record ${fourcc} to ${path}: ${cause.message}`, { cause });
    }
    throw new VideoError("CODEC_UNAVAILABLE", `cannot record ${fourcc} to ${path}: ${describeCause(cause)}`, { cause });
  } finally {
    await unlink(probe).catch(() => undefined);
  }
}

/**
 * Throws `VideoError` `CODEC_UNSUPPORTED`, `OUTPUT_NOT_WRITABLE` or `CODEC_UNAVAILABLE`
 * unless `fourcc` can be recorded to `path` here, and `WRITE_FAILED` if the package's
 * encoder script is missing (a broken build). Then starts the spare encoder process
 * if there is none, so that a recording opened next starts warm. Returns the script.
 */
export async function prepareEncoding(path: string, fourcc: string, fps: number): Promise<string> {
  checkContainer(path, fourcc);
  await checkOutputPath(path);
  await probeCodec(path, fourcc, fps);
  const script = encoderScript();
  await access(script, fsConstants.R_OK).catch((cause: unknown) => {
    throw new VideoError(
      "WRITE_FAILED",
      `cannot record to ${path}: the encoder script ${script} is missing; build @udpcam/video (pnpm --filter @udpcam/video build)`,
      { cause },
    );
  });
  warmEncoder(script);
  return script;
}

/**
 * An encoder process started ahead of need, taken by the next recorder at its first
 * frame, so that frame does not wait the ~0.7 s Node and OpenCV take to load in a new
 * process (at 60 fps, 40 frames: more than the receiver's queue). One for the whole
 * process, started by `openRecorder` (the receiver's startup check opens a recorder,
 * so its first recording starts warm). It never keeps this process alive, and exits
 * when this process does.
 */
let spare: ChildProcess | undefined;

function spawnEncoder(script: string): ChildProcess {
  return spawn(process.execPath, [script, String(process.pid)], {
    stdio: ["pipe", "ignore", "pipe", "ipc"],
    serialization: "json",
  });
}

export function warmEncoder(script: string): void {
  if (spare !== undefined) return;
  const encoder = spawnEncoder(script);
  spare = encoder;
  for (const handle of [encoder, encoder.channel, encoder.stdin as Socket | null, encoder.stderr as Socket | null])
    handle?.unref();
  const forget = (): void => {
    if (spare === encoder) spare = undefined;
  };
  encoder.on("exit", forget);
  encoder.on("error", forget); // also: an "error" event without a listener would throw
}

export function takeEncoder(script: string): ChildProcess {
  const taken = spare;
  spare = undefined;
  if (taken !== undefined && taken.exitCode === null && taken.signalCode === null && taken.connected) return taken;
  taken?.kill("SIGKILL");
  return spawnEncoder(script);
}
