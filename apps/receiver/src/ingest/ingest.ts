/** The main thread's handle on the ingest thread. */
import { Worker } from "node:worker_threads";
import { UserError } from "@udpcam/appkit";
import type { FrameMemory } from "@udpcam/video";
import {
  EMPTY_INGEST_COUNTERS,
  type IngestCommand,
  type IngestCounters,
  type IngestedFrame,
  type IngestMessage,
  type IngestSettings,
} from "./messages.js";

/**
 * Buffers handed back go to the ingest thread this many at a time: each message wakes that thread (and is a
 * `postMessage` here), which cost some 80 us of CPU a frame across both threads when sent one by one (a JPEG stream
 * at 25 fps, docs/benchmarks/receiver.md). The ingest thread allocates a few buffers more meanwhile; at most
 * `RECYCLE_BATCH - 1` wait here, unused.
 */
export const RECYCLE_BATCH = 4;

export interface Ingest {
  readonly address: string;
  readonly port: number;
  readonly receiveBuffer: number;
  /** The multicast group joined, for the log ("joined 239.255.0.1 on 10.0.0.2"); undefined for unicast. */
  readonly group: string | undefined;
  /** Who reads the socket: "native (recvmmsg, 32 x 64 KiB)", or "dgram (why)" where the native reader cannot run. */
  readonly reader: string;
  /**
   * The latest counters: at most 250 ms behind the last datagram (none are sent while nothing arrives), their
   * `msSinceLastDatagram` counted up to now.
   */
  counters(): IngestCounters;
  /** Whether the ingest thread is running (for health checks). */
  readonly alive: boolean;
  /** Stops reading and returns the final counters. */
  close(): Promise<IngestCounters>;
  /** A rotation: v1 datagrams are accepted with these keys from now on, the newest first. */
  setKeys(keys: readonly Uint8Array[]): void;
  /**
   * Hands a frame's buffer back for the next frames (transferred: detached here). Only for a buffer
   * that nothing references any more; one that is not a whole ArrayBuffer of its own is left alone.
   */
  recycle(payload: Uint8Array): void;
}

export interface IngestHandlers {
  readonly onFrame: (ingested: IngestedFrame) => void;
  readonly onCounters: (counters: IngestCounters) => void;
  readonly onFailure: (error: Error) => void;
}

/**
 * Starts the ingest thread; resolves once its socket listens. With `frameMemory`, raw frames are completed in it once
 * it is reserved (by the first recorder that lends it to its encoder): every sink must release their frames (see
 * `Sink.releasesFrames`), or its slots are never handed back.
 */
export function startIngest(
  settings: Omit<IngestSettings, "frameMemoryFd">,
  handlers: IngestHandlers,
  frameMemory?: FrameMemory,
): Promise<Ingest> {
  const workerData: IngestSettings = { ...settings, frameMemoryFd: frameMemory?.fd };
  const worker = new Worker(new URL("./ingest-thread.js", import.meta.url), { workerData });
  frameMemory?.onReserved((layout) => worker.postMessage({ type: "frame-memory", layout } satisfies IngestCommand));
  let latest = EMPTY_INGEST_COUNTERS;
  /** When `latest` arrived (this thread's clock: the ingest thread's `performance.now()` has another origin). */
  let latestAt = performance.now();
  let alive = true;
  let closed: ((counters: IngestCounters) => void) | undefined;
  const whenClosed = new Promise<IngestCounters>((resolve) => (closed = resolve));

  let listening = false;
  let recycled: ArrayBuffer[] = [];
  let recycledSlots: number[] = [];
  return new Promise((resolve, reject) => {
    // Before it listens a failure rejects the start; after, it is the running app's to handle.
    const failed = (error: Error): void => (listening ? handlers.onFailure(error) : reject(error));
    worker.on("message", (message: IngestMessage) => {
      switch (message.type) {
        case "listening":
          listening = true;
          resolve({
            address: message.address,
            port: message.port,
            receiveBuffer: message.receiveBuffer,
            group: message.group,
            reader: message.reader,
            counters: () => {
              const since = latest.msSinceLastDatagram;
              return since === undefined
                ? latest
                : { ...latest, msSinceLastDatagram: since + performance.now() - latestAt };
            },
            get alive() {
              return alive;
            },
            close: () => {
              worker.postMessage({ type: "close" } satisfies IngestCommand);
              return whenClosed;
            },
            setKeys: (keys) => worker.postMessage({ type: "keys", keys } satisfies IngestCommand),
            recycle: (payload) => {
              if (!alive) return;
              const slot = frameMemory?.slotOf(payload);
              if (slot !== undefined) {
                if (recycledSlots.includes(slot)) return;
                recycledSlots.push(slot);
              } else {
                const buffer = payload.buffer;
                // A frame's payload starts its buffer (headroom may follow: the pool's).
                if (!(buffer instanceof ArrayBuffer) || payload.byteOffset !== 0) return;
                if (buffer.byteLength === 0 || recycled.includes(buffer)) return;
                recycled.push(buffer);
              }
              if (recycled.length + recycledSlots.length < RECYCLE_BATCH) return;
              const buffers = recycled;
              const slots = recycledSlots;
              recycled = [];
              recycledSlots = [];
              worker.postMessage({ type: "recycle", buffers, slots } satisfies IngestCommand, buffers);
            },
          });
          break;
        case "bind-failed":
          reject(message.code === "USER" ? new UserError(message.message) : new Error(message.message));
          break;
        case "frame": {
          const lent = message.inFrameMemory;
          if (lent === undefined || frameMemory === undefined) handlers.onFrame(message.ingested);
          else {
            const { ingested } = message;
            const payload = frameMemory.view(lent.slot, lent.byteLength);
            handlers.onFrame({ ...ingested, frame: { ...ingested.frame, payload } });
          }
          break;
        }
        case "counters":
          latest = message.counters;
          latestAt = performance.now();
          handlers.onCounters(latest);
          break;
        case "closed":
          latest = message.counters;
          latestAt = performance.now();
          closed?.(latest);
          break;
        case "failed": {
          const error = new Error(`receive loop failed: ${message.message}`);
          error.stack = message.stack;
          failed(error);
          break;
        }
      }
    });
    worker.on("error", failed);
    worker.on("exit", () => {
      alive = false;
      closed?.(latest);
    });
  });
}
