import type { FrameMetadata } from "./frame.js";

// What the reassembler returns from `push` and `expire`: plain data.

/** A complete frame: every data chunk arrived or was rebuilt from parity. */
export interface FrameEvent extends FrameMetadata {
  readonly type: "frame";
  /** Exactly the frame's bytes, in a buffer of its own (the reassembler keeps no reference). */
  readonly payload: Uint8Array;
  /** True when FEC rebuilt at least one data chunk. */
  readonly recovered: boolean;
  /** `now` of the push that brought the frame's first datagram. */
  readonly firstArrivalMs: number;
}

/**
 * Why a frame was given up:
 * - superseded: a newer frame of its stream was emitted first, so it can never be shown;
 * - timeout: incomplete after `frameTimeoutMs` (see `expire`);
 * - overflow: too many frames in flight, or too many bytes buffered;
 * - evicted: its stream was forgotten (idle, or pushed out by a new stream).
 */
export type DropReason = "superseded" | "timeout" | "overflow" | "evicted";

export interface DroppedEvent {
  readonly type: "dropped";
  readonly streamId: number;
  readonly frameNumber: number;
  readonly reason: DropReason;
  /** Data and parity chunks that had arrived. */
  readonly chunksReceived: number;
  /** Data chunks the frame has (K). */
  readonly chunkCount: number;
}

/** A stream id seen for the first time (or again after it was forgotten). */
export interface StreamStartedEvent {
  readonly type: "stream-started";
  readonly streamId: number;
}

/** A stream forgotten: idle past `streamTimeoutMs`, or evicted to make room for a new one. */
export interface StreamEndedEvent {
  readonly type: "stream-ended";
  readonly streamId: number;
  readonly reason: "idle" | "evicted";
}

export type ReassemblyEvent = FrameEvent | DroppedEvent | StreamStartedEvent | StreamEndedEvent;
