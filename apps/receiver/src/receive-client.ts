import { Worker } from "node:worker_threads";
import { UserError } from "@udpcam/appkit";
import type { AssembledFrame } from "./assembler.js";
import type { ReceiveCounters, ReceiveLoopCommand, ReceiveLoopMessage, ReceiveLoopSettings } from "./receive-protocol.js";

export interface ReceiveLoop {
  readonly address: string;
  readonly port: number;
  readonly receiveBuffer: number;
  /** The latest counters (at most 100 ms old). */
  counters(): ReceiveCounters;
  /** Stops reading and returns the final counters. */
  close(): Promise<ReceiveCounters>;
}

export interface ReceiveLoopHandlers {
  readonly onFrame: (frame: AssembledFrame, completedAt: number) => void;
  readonly onCounters: (counters: ReceiveCounters) => void;
  readonly onFailure: (error: Error) => void;
}

const EMPTY: ReceiveCounters = {
  datagramsReceived: 0,
  bytesReceived: 0,
  msSinceLastDatagram: undefined,
  framesComplete: 0,
  framesRecovered: 0,
  framesDropped: 0,
  framesLate: 0,
  protocol: {},
};

/** Starts the receive loop in a worker thread; resolves once its socket listens. */
export function startReceiveLoop(settings: ReceiveLoopSettings, handlers: ReceiveLoopHandlers): Promise<ReceiveLoop> {
  const worker = new Worker(new URL("./receive-loop.js", import.meta.url), { workerData: settings });
  let latest = EMPTY;
  let closed: ((counters: ReceiveCounters) => void) | undefined;
  const whenClosed = new Promise<ReceiveCounters>((resolve) => (closed = resolve));

  let listening = false;
  return new Promise((resolve, reject) => {
    // Before it listens a failure rejects the start; after, it is the running app's to handle.
    const failed = (error: Error): void => (listening ? handlers.onFailure(error) : reject(error));
    worker.on("message", (message: ReceiveLoopMessage) => {
      switch (message.type) {
        case "listening":
          listening = true;
          resolve({
            address: message.address,
            port: message.port,
            receiveBuffer: message.receiveBuffer,
            counters: () => latest,
            close: () => {
              worker.postMessage({ type: "close" } satisfies ReceiveLoopCommand);
              return whenClosed;
            },
          });
          break;
        case "bind-failed":
          reject(message.code === "USER" ? new UserError(message.message) : new Error(message.message));
          break;
        case "frame":
          handlers.onFrame(message.frame, message.completedAt);
          break;
        case "counters":
          latest = message.counters;
          handlers.onCounters(latest);
          break;
        case "closed":
          latest = message.counters;
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
    worker.on("exit", () => closed?.(latest));
  });
}
