import type { AssembledFrame, AssemblerCounters } from "./assembler.js";

/** What the receive loop (a worker thread) needs to listen and reassemble. */
export interface ReceiveLoopSettings {
  readonly host: string;
  readonly port: number;
  readonly protocol: "v1" | "legacy";
  readonly legacyMode: "strict" | "seed";
  readonly key: string | undefined;
  readonly maxFrameBytes: number;
  readonly frameTimeout: number;
  readonly receiveBufferBytes: number;
}

export interface ReceiveCounters extends AssemblerCounters {
  readonly datagramsReceived: number;
  readonly bytesReceived: number;
  /** Milliseconds since the last datagram when these counters were taken; undefined before the first. */
  readonly msSinceLastDatagram: number | undefined;
}

/** Messages from the receive loop to the main thread. */
export type ReceiveLoopMessage =
  | { readonly type: "listening"; readonly address: string; readonly port: number; readonly receiveBuffer: number }
  | { readonly type: "bind-failed"; readonly code: string | undefined; readonly message: string }
  | { readonly type: "frame"; readonly frame: AssembledFrame; readonly completedAt: number }
  | { readonly type: "counters"; readonly counters: ReceiveCounters }
  | { readonly type: "closed"; readonly counters: ReceiveCounters }
  | { readonly type: "failed"; readonly message: string; readonly stack: string | undefined };

/** Messages from the main thread to the receive loop. */
export type ReceiveLoopCommand = { readonly type: "close" };
