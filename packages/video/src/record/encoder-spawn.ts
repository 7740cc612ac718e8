/**
 * Starting encoder processes (`encoder-process.ts`): where the built script is, and
 * the spare kept ready. The checks a recording to be encoded makes at open time,
 * before any frame can be lost: container and fourcc, the folder, the encoder's script,
 * and a one-frame probe file written with the same codec next to the target, by the
 * encoder process that will record (so that this process never loads OpenCV for it).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { constants as fsConstants } from "node:fs";
import { access } from "node:fs/promises";
import type { Socket } from "node:net";
import { basename, dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { jpegAddon } from "../codec/jpeg-addon.js";
import { describeCause, VideoError } from "../errors.js";
import { checkContainer } from "./formats.js";
import { closeSlotMemory, createSlotMemory } from "./frame-slots.js";
import { checkOutputPath } from "./output-path.js";
import { EventReader, EVENTS_FD, probeRecord, type EncoderEvent, type ProbeOptions } from "./encoder-wire.js";

/** The encoder's script: next to this module once built. From the sources (vitest runs src/*.ts) the built one, as a child process cannot run TypeScript. */
export function encoderScript(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith(".ts")
    ? join(dirname(here), "..", "..", "dist", "record", "encoder-process.js")
    : join(dirname(here), "encoder-process.js");
}

/** The probe file: next to the target, so it tests the same folder and file system. */
function probePath(path: string): string {
  return resolve(dirname(path), `.${basename(path)}.probe-${process.pid}${extname(path)}`);
}

const STDERR_TAIL_CHARS = 2000;

/** The encoder's handles: referenced, they keep this process alive. */
export function encoderHandles(encoder: ChildProcess): ({ ref(): void; unref(): void } | null | undefined)[] {
  return [
    encoder,
    encoder.channel,
    encoder.stdin as Socket | null,
    encoder.stderr as Socket | null,
    eventsSocket(encoder),
  ];
}

/** The recorder's end of the encoder's events' socket (stdio entry `EVENTS_FD`). */
function eventsSocket(encoder: ChildProcess): Socket | null | undefined {
  return (encoder.stdio as readonly unknown[])[EVENTS_FD] as Socket | null | undefined;
}

/** What an encoder process said (its events' socket, `EVENTS_FD`), or an Error: its events can no longer be read. */
export type EncoderMessage = EncoderEvent | Error;

const ENCODER_EVENT = "udpcam:encoder-event";

/** Calls `listener` with each event of `encoder`'s, in order, until the returned function is called. */
export function onEncoderEvents(encoder: ChildProcess, listener: (message: EncoderMessage) => void): () => void {
  encoder.on(ENCODER_EVENT, listener);
  return () => encoder.off(ENCODER_EVENT, listener);
}

/** Reads the events' socket for the process's whole life (the spare's probe, then its recorder). */
function readEvents(encoder: ChildProcess): void {
  const events = eventsSocket(encoder);
  const reader = new EventReader();
  let broken = false;
  events?.on("data", (chunk: Buffer) => {
    if (broken) return;
    try {
      reader.push(chunk, (event) => encoder.emit(ENCODER_EVENT, event));
    } catch (cause) {
      broken = true;
      encoder.emit(ENCODER_EVENT, cause instanceof Error ? cause : new Error(describeCause(cause)));
    }
  });
  // Reported by the process's "exit" and "close".
  events?.on("error", () => undefined);
}

/**
 * Sends a probe record and waits for the answer: null when the codec can be written, else why not.
 * Rejects when the encoder process ends first (it could not load OpenCV, say).
 */
function probeIn(encoder: ChildProcess, options: ProbeOptions): Promise<string | null> {
  return new Promise((resolvePromise, reject) => {
    let said = "";
    const onStderr = (chunk: Buffer): void => {
      said = (said + chunk.toString("utf8")).slice(-STDERR_TAIL_CHARS);
    };
    let stopListening = (): void => undefined;
    const settle = (): void => {
      stopListening();
      encoder.off("exit", onExit);
      encoder.off("error", onError);
      encoder.stderr?.off("data", onStderr);
      for (const handle of encoderHandles(encoder)) handle?.unref();
    };
    const onMessage = (message: EncoderMessage): void => {
      if (message instanceof Error) {
        settle();
        reject(new Error(`the encoder process answered nonsense: ${message.message}`));
        return;
      }
      if (message.event !== "probed") return;
      settle();
      resolvePromise(message.error);
    };
    const onExit = (code: number | null, signal: string | null): void => {
      settle();
      const last = said.trim().split("\n").pop();
      const how = code === null ? `was killed by ${signal}` : `exited with code ${code}`;
      reject(new Error(`the encoder process ${how}${last === undefined || last === "" ? "" : ` (${last})`}`));
    };
    const onError = (error: Error): void => {
      settle();
      reject(new Error(`the encoder process could not start: ${error.message}`));
    };
    for (const handle of encoderHandles(encoder)) handle?.ref();
    stopListening = onEncoderEvents(encoder, onMessage);
    encoder.on("exit", onExit);
    encoder.on("error", onError);
    encoder.stderr?.on("data", onStderr);
    encoder.stdin?.on("error", () => undefined); // EPIPE if it died: reported by onExit
    encoder.stdin?.write(probeRecord(options));
  });
}

/**
 * Throws `VideoError` `CODEC_UNSUPPORTED`, `OUTPUT_NOT_WRITABLE` or `CODEC_UNAVAILABLE`
 * unless `fourcc` can be recorded to `path` here, and `WRITE_FAILED` if the package's
 * encoder script is missing (a broken build). The codec is probed in an encoder process
 * (the spare, or a new one: this process never loads OpenCV for it), which is returned
 * ready for a start record, OpenCV loaded; the caller records with it or ends it
 * (`retireEncoder`). With `probe: false` (the codec was probed for this folder already)
 * the process is not asked, and loads OpenCV at its start record, while the first frames
 * are already on their way to it.
 */
export async function prepareEncoding(
  path: string,
  fourcc: string,
  fps: number,
  probe = true,
  frameMemoryFd?: number,
): Promise<{ readonly script: string; readonly encoder: ChildProcess }> {
  checkContainer(path, fourcc);
  await checkOutputPath(path);
  const script = encoderScript();
  await access(script, fsConstants.R_OK).catch((cause: unknown) => {
    throw new VideoError(
      "WRITE_FAILED",
      `cannot record to ${path}: the encoder script ${script} is missing; build @udpcam/video (pnpm --filter @udpcam/video build)`,
      { cause },
    );
  });
  const encoder = takeEncoder(script, frameMemoryFd);
  if (!probe) return { script, encoder };
  let error: string | null;
  try {
    error = await probeIn(encoder, { path: probePath(path), fourcc, fps });
  } catch (cause) {
    encoder.kill("SIGKILL");
    throw new VideoError("CODEC_UNAVAILABLE", `cannot record ${fourcc} to ${path}: ${describeCause(cause)}`, {
      cause,
    });
  }
  if (error !== null) {
    retireEncoder(encoder);
    throw new VideoError("CODEC_UNAVAILABLE", `cannot record ${fourcc} to ${path}: ${error}`);
  }
  return { script, encoder };
}

/**
 * An encoder process kept ready (`keepSpare`): the receiver's startup check probes the
 * codec in one and keeps it, OpenCV loaded, for the first recording, whose first frame
 * then does not wait the ~0.7 s Node and OpenCV take to load in a new process (at 60
 * fps, 40 frames: more than the receiver's queue). At most one for the whole process;
 * it never keeps this process alive, and exits when this process does.
 */
let spare: ChildProcess | undefined;

/**
 * The send buffer asked for on the encoder's stdin, a Unix socket pair: with Linux's default (208 KiB) a
 * 640x480 frame went as five writes of 214 KiB, each waiting for the encoder to read the one before
 * (`EAGAIN`, then an epoll wake-up) on both ends. Linux caps the request at net.core.wmem_max (4 MiB here,
 * 8 MiB of bookkeeping: a 1280x720 frame in one write); a lower cap only means more writes. The bytes in
 * the socket are frames the recorder already counts as queued.
 */
export const STDIN_SEND_BUFFER_BYTES = 4 << 20;

/**
 * Raises the send buffer of a child's stdin (see above). Returns the socket's buffer then (what Linux
 * reports: twice what it grants), or -1 where it is left as it was: not a socket, no file descriptor
 * to be had, or the package's addon not built.
 */
export function widenStdin(child: ChildProcess): number {
  // Node offers no socket options for its pipes: the handle's file descriptor (Unix only).
  const fd = (child.stdin as { _handle?: { fd?: unknown } } | null)?._handle?.fd;
  if (typeof fd !== "number" || fd < 0) return -1;
  try {
    return jpegAddon().setSendBuffer(fd, STDIN_SEND_BUFFER_BYTES);
  } catch {
    return -1;
  }
}

/** Each encoder's memfd for frame slots (its fd `SLOTS_FD`), where one could be made. */
const slotMemories = new WeakMap<ChildProcess, number>();

/** The memfd an encoder process has as `SLOTS_FD`, or undefined (its frames then all go on stdin). */
export function slotMemoryOf(encoder: ChildProcess): number | undefined {
  return slotMemories.get(encoder);
}

/** The frame memory (`frame-memory.ts`) each encoder was given as `FRAME_MEMORY_FD`, by its number here. */
const frameMemories = new WeakMap<ChildProcess, number>();

/** The number here of the frame memory `encoder` has as `FRAME_MEMORY_FD`, or undefined (it was given none). */
export function frameMemoryOf(encoder: ChildProcess): number | undefined {
  return frameMemories.get(encoder);
}

function spawnEncoder(script: string, frameMemoryFd: number | undefined): ChildProcess {
  const memory = createSlotMemory();
  const encoder = spawn(process.execPath, [script, String(process.pid)], {
    // The IPC channel carries nothing: it closes when this process goes, which the encoder watches for.
    stdio: ["pipe", "ignore", "pipe", "ipc", memory ?? "ignore", "pipe", frameMemoryFd ?? "ignore"],
    serialization: "json",
  });
  if (frameMemoryFd !== undefined) frameMemories.set(encoder, frameMemoryFd);
  readEvents(encoder);
  if (memory !== undefined) {
    slotMemories.set(encoder, memory);
    // Forgotten as it is closed: its number may be reused for another file at once.
    const close = (): void => {
      if (slotMemories.get(encoder) !== memory) return;
      slotMemories.delete(encoder);
      closeSlotMemory(memory);
    };
    encoder.once("exit", close);
    // Never started: no "exit" follows.
    encoder.once("error", () => {
      if (encoder.pid === undefined) close();
    });
  }
  widenStdin(encoder);
  for (const handle of encoderHandles(encoder)) handle?.unref();
  // Also: an "error" event without a listener would throw.
  encoder.on("error", () => undefined);
  return encoder;
}

/** Keeps a probed encoder as the spare (or ends it, when there is one already). */
export function keepSpare(encoder: ChildProcess): void {
  if (spare !== undefined && spare !== encoder) {
    retireEncoder(encoder);
    return;
  }
  spare = encoder;
  for (const handle of encoderHandles(encoder)) handle?.unref();
  encoder.once("exit", () => {
    if (spare === encoder) spare = undefined;
  });
}

/** Ends an encoder that was never given a start record: its input ends, and it exits. */
export function retireEncoder(encoder: ChildProcess): void {
  if (spare === encoder) spare = undefined;
  encoder.stdin?.end();
}

/**
 * The spare if it is still alive and has frame memory `frameMemoryFd` (or none, for none), else a new encoder
 * process with it.
 */
export function takeEncoder(script: string, frameMemoryFd?: number): ChildProcess {
  const taken = spare;
  if (taken !== undefined && frameMemoryOf(taken) !== frameMemoryFd) return spawnEncoder(script, frameMemoryFd);
  spare = undefined;
  if (taken !== undefined && taken.exitCode === null && taken.signalCode === null && taken.connected) return taken;
  taken?.kill("SIGKILL");
  return spawnEncoder(script, frameMemoryFd);
}
