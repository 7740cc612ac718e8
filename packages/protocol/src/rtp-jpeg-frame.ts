import { jfifHeader } from "./jfif.js";
import type { RtpJpegPacket } from "./rtp-jpeg-header.js";

/**
 * One RTP/JPEG frame in flight: its fragments kept sorted by offset and never overlapping, so
 * that once the marker packet has set the end and the bytes held reach it, the scan is whole
 * from 0 to the end with no gap. Then `assembleJfif` rebuilds the file.
 */
export interface RtpJpegFrame {
  readonly timestamp: number;
  readonly frameNumber: number;
  readonly firstArrivalMs: number;
  /** The first packet's JPEG header: every other packet must agree. */
  readonly type: number;
  readonly q: number;
  readonly width: number;
  readonly height: number;
  readonly restartInterval: number;
  readonly offsets: number[];
  readonly fragments: Uint8Array[];
  /** Scan bytes held. */
  bytes: number;
  /** Furthest byte any fragment reaches. */
  extent: number;
  /** Set by the marker packet: the scan's length. */
  end: number | undefined;
  /** Two tables (zig-zag) and their precision bits, once known (from Q, in-band, or sent earlier). */
  tables: { readonly bytes: Uint8Array; readonly precision: number } | undefined;
  /** Bytes charged against the reassembler's budget. */
  charged: number;
}

/** What one fragment does to its frame. */
export type FragmentOutcome = "placed" | "duplicate" | "overlap" | "past-end" | "end-moved";

export function createRtpJpegFrame(p: RtpJpegPacket, frameNumber: number, nowMs: number): RtpJpegFrame {
  const { timestamp, type, q, width, height, restartInterval } = p;
  return {
    timestamp,
    frameNumber,
    firstArrivalMs: nowMs,
    type,
    q,
    width,
    height,
    restartInterval,
    offsets: [],
    fragments: [],
    bytes: 0,
    extent: 0,
    end: undefined,
    tables: undefined,
    charged: 0,
  };
}

/** True when the packet's JPEG header says the same frame layout as the frame's first. */
export function sameRtpJpegLayout(frame: RtpJpegFrame, p: RtpJpegPacket): boolean {
  return (
    frame.type === p.type &&
    frame.q === p.q &&
    frame.width === p.width &&
    frame.height === p.height &&
    frame.restartInterval === p.restartInterval
  );
}

/** Where `offset` goes in the sorted list (binary search). */
function slot(offsets: readonly number[], offset: number): number {
  let lo = 0;
  let hi = offsets.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (offsets[mid]! < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Checks a fragment against the frame (nothing changes unless "placed"). `store` copies the bytes when placed. */
export function placeFragment(
  frame: RtpJpegFrame,
  offset: number,
  payload: Uint8Array,
  marker: boolean,
): FragmentOutcome {
  const stop = offset + payload.length;
  if (frame.end !== undefined && stop > frame.end) return "past-end";
  if (marker) {
    if (frame.end !== undefined && frame.end !== stop) return "end-moved";
    if (frame.extent > stop) return "past-end";
  }
  if (payload.length > 0) {
    const i = slot(frame.offsets, offset);
    if (frame.offsets[i] === offset) return frame.fragments[i]!.length === payload.length ? "duplicate" : "overlap";
    const before = i > 0 ? frame.offsets[i - 1]! + frame.fragments[i - 1]!.length : 0;
    const after = i < frame.offsets.length ? frame.offsets[i]! : Infinity;
    if (before > offset || stop > after) return "overlap";
    frame.offsets.splice(i, 0, offset);
    frame.fragments.splice(i, 0, payload.slice());
    frame.bytes += payload.length;
    frame.extent = Math.max(frame.extent, stop);
  } else if (!marker) {
    return "duplicate";
  }
  if (marker) frame.end = stop;
  return "placed";
}

/** Every byte from 0 to the marker's end held, and the tables known. */
export function isComplete(frame: RtpJpegFrame): boolean {
  return frame.end !== undefined && frame.bytes === frame.end && frame.tables !== undefined;
}

/** The complete JFIF file: rebuilt headers, the scan, EOI (unless the scan already ends with one). */
export function assembleJfif(frame: RtpJpegFrame): Uint8Array {
  const tables = frame.tables!;
  const header = jfifHeader({
    type: frame.type,
    width: frame.width,
    height: frame.height,
    tables: tables.bytes,
    precision: tables.precision,
    restartInterval: frame.restartInterval,
  });
  const last = frame.fragments[frame.fragments.length - 1];
  const endsWithEoi =
    last !== undefined && last.length >= 2 && last[last.length - 2] === 0xff && last[last.length - 1] === 0xd9;
  const out = new Uint8Array(header.length + frame.bytes + (endsWithEoi ? 0 : 2));
  out.set(header);
  let at = header.length;
  for (const fragment of frame.fragments) {
    out.set(fragment, at);
    at += fragment.length;
  }
  if (!endsWithEoi) out.set([0xff, 0xd9], at);
  return out;
}
