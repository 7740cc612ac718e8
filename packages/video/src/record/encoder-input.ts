/**
 * The encoder process's stdin reader, a worker thread: blocking reads straight into
 * each frame's own buffer, handed to the encoding thread without a copy (transferred).
 * Reading in its own thread keeps the pipe moving while OpenCV encodes; reading
 * stdin in the encoding thread's event loop instead cost about 5 ms of CPU a
 * 1280x720 frame more here (44 'data' events of 64 KiB, each a new Buffer, then a
 * copy into the frame) and stalled the recorder's writes while a frame was encoded.
 *
 * This thread must never load OpenCV (see `encoder-process.ts`): it imports only
 * `encoder-wire.ts`.
 */
import { readSync } from "node:fs";
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from "node:worker_threads";
import { describeCause } from "../errors.js";
import { readRecords, type EncoderRecord } from "./encoder-wire.js";

/** What this thread tells the encoding thread. */
export type ReaderMessage =
  | EncoderRecord
  /** The input ended (the recorder closed it, or went away). */
  | { readonly kind: "end" }
  /** The input lost its framing (a bug): nothing more can be read from it. */
  | { readonly kind: "broken"; readonly message: string };

const STDIN = 0;
const pause = new Int32Array(new SharedArrayBuffer(4));

/** `fs.readSync` on stdin; an I/O error (the recorder's end reset, say) counts as the end of input. */
function read(into: Uint8Array, offset: number, length: number): number {
  for (;;) {
    try {
      return readSync(STDIN, into, offset, length, null);
    } catch (error) {
      // Only if stdin was left non-blocking: wait a little for data.
      if ((error as NodeJS.ErrnoException).code === "EAGAIN") Atomics.wait(pause, 0, 0, 1);
      else return 0;
    }
  }
}

/** What the encoding thread gives to this one at start: the port on which it hands frame buffers back once encoded. */
export interface ReaderData {
  readonly returns: MessagePort;
}

/** Buffers handed back, kept for the next frames of the same size (fresh 2.7 MB buffers cost page faults and zeroing). */
const SPARE_BUFFERS = 4;
const spare: ArrayBuffer[] = [];
const { returns } = workerData as ReaderData;

const PAGE_BYTES = 4096;
/** glibc's header before the memory of a chunk it maps by itself (every buffer this large): 16 bytes into a page. */
const MAPPED_CHUNK_OFFSET = 16;

/**
 * Where a frame of `byteLength` bytes starts in its buffer, so that it ends mid-page. OpenCV's
 * FFmpeg writer first copies a frame whose last byte lies within 32 bytes of a page boundary
 * (its guard against FFmpeg's SIMD reading past the end: `cap_ffmpeg_impl.hpp`, `writeFrame`),
 * and every 640x480 or 1280x720 frame is a whole number of pages: a buffer of exactly its size,
 * mapped by glibc, ends 16 bytes into a page, and was copied once more for every frame (0.3 ms of
 * 0.9 MB a frame in the encoder's profile). With a buffer placed anywhere else the chance is
 * the same as before (64 in 4096). A multiple of 64 bytes, as OpenCV's own allocations are.
 */
function frameOffset(byteLength: number): number {
  const end = (MAPPED_CHUNK_OFFSET + byteLength) % PAGE_BYTES;
  return ((PAGE_BYTES / 2 - end + PAGE_BYTES) % PAGE_BYTES) & ~63;
}

function allocate(byteLength: number): Uint8Array {
  for (let back = receiveMessageOnPort(returns); back !== undefined; back = receiveMessageOnPort(returns)) {
    spare.push(back.message as ArrayBuffer);
    if (spare.length > SPARE_BUFFERS) spare.shift();
  }
  const offset = frameOffset(byteLength);
  const fits = spare.findIndex((buffer) => buffer.byteLength === offset + byteLength);
  const buffer = fits === -1 ? new ArrayBuffer(offset + byteLength) : (spare.splice(fits, 1)[0] as ArrayBuffer);
  return new Uint8Array(buffer, offset, byteLength);
}

function post(message: ReaderMessage): void {
  if (message.kind === "frame") parentPort?.postMessage(message, [message.bytes.buffer as ArrayBuffer]);
  else parentPort?.postMessage(message);
}

try {
  for (const record of readRecords(read, allocate)) post(record);
  post({ kind: "end" });
} catch (cause) {
  post({ kind: "broken", message: describeCause(cause) });
}
