/**
 * What the page reads from /api/streams (a subset of `StreamSnapshot` in
 * delivery/stream-stats.ts, as JSON: an unknown latency is absent), and what
 * each tile counts for tests (`window.udpcam.tiles`).
 */
export interface StreamFigures {
  readonly id: string;
  readonly width: number;
  readonly height: number;
  readonly codec: string;
  readonly fps: number;
  readonly mbps: number;
  readonly datagramsReceived: number;
  readonly framesRecorded: number;
  readonly framesDropped: number;
  readonly framesRecovered: number;
  readonly frameLossPercent: number;
  readonly latencyMs: { readonly p50?: number; readonly p99?: number };
  readonly viewers: number;
}

export interface TileCounters {
  framesReceived: number;
  framesPainted: number;
  /** Frames that arrived while an older one was still being decoded, and were replaced. */
  framesSkipped: number;
  lastFrameNumber: number | undefined;
  /** Capture (the sender's clock) to drawn on the canvas, over the last 600 frames. */
  paintLatencyMs: { p50: number | undefined; p99: number | undefined };
  /** Sockets opened (1 + reconnects). */
  connects: number;
}
