import type { DatagramHeader } from "./header.js";
import { MAX_NACK_ENTRIES, WHOLE_FRAME, type NackEntry } from "./nack.js";
import { serialDiff } from "./serial.js";
import { groupDataCount } from "./slots.js";

/**
 * The receiver's half of retransmission on request: which chunks of each stream are missing, and
 * when to ask for them. Synchronous, no sockets or timers: the reassembler tells it what arrived
 * (`observe`) and what became of a frame (`finished`); the app calls `due(now)` a few hundred
 * times a second and sends each request as a NACK (nack.ts) to `replyTo`.
 *
 * A chunk counts as missing once something sent after it arrived: a higher chunk index of its
 * frame, or a newer frame (whose number also reveals frames lost whole). It is asked for once the
 * reorder window has passed (`reorderDatagrams` later arrivals, or `reorderMs` for the end of a
 * stream), again every `retryMs` while it is missing, and no more once the frame is older than
 * `latencyMs` (the reassembler drops it then). Parity is never asked for: per FEC group, only as
 * many data chunks as the group lacks beyond the parity it holds or may still receive.
 */
export interface NackTrackerOptions {
  /** The receiver's latency budget: a frame older than this (since its first datagram) is not asked for. */
  readonly latencyMs: number;
  /** A gap is a loss, not reordering, once this many datagrams of the stream arrived after it. Default 4. */
  readonly reorderDatagrams?: number;
  /** ...or once this long has passed since it was seen. Default 10 ms. */
  readonly reorderMs?: number;
  /** A chunk asked for and still missing is asked for again after this long. Default 10 ms. */
  readonly retryMs?: number;
  /** Streams tracked (the reassembler's maxStreams). Default 8. */
  readonly maxStreams?: number;
  /** Frames tracked per stream; the oldest is forgotten past it. Default 64. */
  readonly maxFramesPerStream?: number;
}

export interface NackRequest {
  readonly streamId: number;
  /** Where the stream's last datagram came from (as given to `observe`). */
  readonly replyTo: string;
  /** At most MAX_NACK_ENTRIES: one NACK datagram. */
  readonly entries: readonly NackEntry[];
}

export interface NackTrackerCounters {
  /** NACK requests made by `due` (each one datagram). */
  nacksSent: number;
  /** Chunks asked for (each try counts; a frame asked for whole counts one). */
  datagramsRequested: number;
  /** Frames asked for whole (no datagram of theirs had arrived). */
  framesRequested: number;
  /** Chunks that arrived after they were asked for: recovered by retransmission (or their own late arrival). */
  datagramsRecoveredByNack: number;
  /** Chunks asked for that arrived when already held: a retransmission after the original, or a second one. */
  datagramsRequestedDuplicate: number;
  /** Chunks still missing when their frame passed the latency budget (asked for or not). */
  gapsExpired: number;
}

export interface NackTracker {
  /** An accepted (verified, new) chunk; `replyTo` says where its stream's NACKs go. */
  observe(
    header: Pick<
      DatagramHeader,
      "streamId" | "frameNumber" | "chunkIndex" | "chunkCount" | "fecGroups" | "fecParityPerGroup"
    >,
    nowMs: number,
    replyTo: string,
  ): void;
  /** A chunk that was already held (a duplicate): counted if it had been asked for. */
  duplicate(header: Pick<DatagramHeader, "streamId" | "frameNumber" | "chunkIndex">): void;
  /**
   * Nothing more is asked for the frame: it is complete, or was dropped (what it still lacked is
   * counted in `gapsExpired`), or was emitted, so that no older frame can be shown any more either
   * (frames lost whole before it are not asked for).
   */
  finished(streamId: number, frameNumber: number, outcome: "complete" | "dropped" | "emitted"): void;
  /** The stream is gone. */
  forget(streamId: number): void;
  /** What to ask for now, one request per NACK datagram. */
  due(nowMs: number): NackRequest[];
  /**
   * Whether `due` may have something to ask for later: a gap is open, or a stream's newest frame is
   * unfinished (its tail may be lost). False once every frame is finished: the caller can stop polling.
   */
  readonly pending: boolean;
  /**
   * The earliest moment (on the clock of the `nowMs` given) at which `due` may ask for something or give a gap
   * up: a gap's reorder window or retry interval ending, a frame reaching the latency budget, the reorder window
   * after a stream's last arrival while its newest frame is unfinished (its tail may be lost). A moment already
   * past means now: a gap that enough later arrivals made a loss. `Infinity` when nothing is pending. A caller
   * can sleep until then instead of polling; calling `due` earlier is harmless. Computed on each read (it walks
   * the frames with gaps): read it once per datagram at most.
   */
  readonly nextDueMs: number;
  readonly counters: Readonly<NackTrackerCounters>;
}

export const DEFAULT_NACK_REORDER_DATAGRAMS = 4;
export const DEFAULT_NACK_REORDER_MS = 10;
export const DEFAULT_NACK_RETRY_MS = 10;
/** Frames lost whole that one arrival reveals at most (a longer gap is a restart, not loss). */
const MAX_GAP_FRAMES = 16;
/** The gap key of a frame lost whole (no chunk index is known). */
const WHOLE = -1;

interface Gap {
  readonly sinceMs: number;
  /** The stream's arrival count when the gap was seen. */
  readonly sinceArrivals: number;
  askedAtMs: number;
  tries: number;
}

interface Layout {
  readonly k: number;
  readonly groups: number;
  readonly parity: number;
  readonly total: number;
}

interface TrackedFrame {
  readonly firstSeenMs: number;
  layout: Layout | undefined;
  received: Uint8Array | undefined;
  highest: number;
  readonly gaps: Map<number, Gap>;
  readonly asked: Set<number>;
}

interface TrackedStream {
  replyTo: string;
  arrivals: number;
  lastArrivalMs: number;
  /** `due` has looked for a lost tail of the newest frame since the last arrival: nothing more is due for it. */
  tailChecked: boolean;
  newest: number;
  readonly frames: Map<number, TrackedFrame>;
}

function positive(name: string, value: number | undefined, fallback: number, min: number): number {
  const v = value ?? fallback;
  if (!(Number.isFinite(v) && v >= min)) throw new RangeError(`${name} must be a number >= ${min}, got ${String(v)}`);
  return v;
}

export function createNackTracker(options: NackTrackerOptions): NackTracker {
  const latencyMs = positive("latencyMs", options.latencyMs, 0, 1);
  const reorderDatagrams = positive("reorderDatagrams", options.reorderDatagrams, DEFAULT_NACK_REORDER_DATAGRAMS, 1);
  const reorderMs = positive("reorderMs", options.reorderMs, DEFAULT_NACK_REORDER_MS, 0);
  const retryMs = positive("retryMs", options.retryMs, DEFAULT_NACK_RETRY_MS, 1);
  const maxStreams = positive("maxStreams", options.maxStreams, 8, 1);
  const maxFrames = positive("maxFramesPerStream", options.maxFramesPerStream, 64, 1);
  const streams = new Map<number, TrackedStream>();
  const counters: NackTrackerCounters = {
    nacksSent: 0,
    datagramsRequested: 0,
    framesRequested: 0,
    datagramsRecoveredByNack: 0,
    datagramsRequestedDuplicate: 0,
    gapsExpired: 0,
  };

  function gap(stream: TrackedStream, frame: TrackedFrame, key: number, nowMs: number): void {
    if (!frame.gaps.has(key))
      frame.gaps.set(key, { sinceMs: nowMs, sinceArrivals: stream.arrivals, askedAtMs: 0, tries: 0 });
  }

  /** Every chunk of `frame` not received, below `until` (exclusive), becomes a gap. */
  function gapsBelow(stream: TrackedStream, frame: TrackedFrame, until: number, nowMs: number): void {
    const { received } = frame;
    if (received === undefined) return;
    for (let i = frame.highest + 1; i < until; i++) if (received[i] === 0) gap(stream, frame, i, nowMs);
  }

  function newFrame(nowMs: number): TrackedFrame {
    return {
      firstSeenMs: nowMs,
      layout: undefined,
      received: undefined,
      highest: -1,
      gaps: new Map(),
      asked: new Set(),
    };
  }

  function trim(stream: TrackedStream): void {
    while (stream.frames.size > maxFrames) {
      let oldest: number | undefined;
      for (const n of stream.frames.keys()) if (oldest === undefined || serialDiff(n, oldest) < 0) oldest = n;
      stream.frames.delete(oldest!);
    }
  }

  return {
    observe(h, nowMs, replyTo) {
      let stream = streams.get(h.streamId);
      const n = h.frameNumber;
      if (stream === undefined) {
        if (streams.size >= maxStreams) return;
        stream = { replyTo, arrivals: 0, lastArrivalMs: nowMs, tailChecked: false, newest: n, frames: new Map() };
        streams.set(h.streamId, stream);
        stream.frames.set(n, newFrame(nowMs));
      }
      stream.arrivals++;
      stream.lastArrivalMs = nowMs;
      stream.tailChecked = false;
      stream.replyTo = replyTo;
      let frame = stream.frames.get(n);
      if (frame === undefined) {
        const ahead = serialDiff(n, stream.newest);
        // An older frame not tracked was finished (or forgotten): nothing to ask for it.
        if (ahead <= 0) return;
        // What the previous newest frame lacks after its highest chunk is lost or late.
        const previous = stream.frames.get(stream.newest);
        if (previous?.layout !== undefined) gapsBelow(stream, previous, previous.layout.total, nowMs);
        if (ahead <= MAX_GAP_FRAMES) {
          for (let m = 1; m < ahead; m++) {
            const lost = newFrame(nowMs);
            gap(stream, lost, WHOLE, nowMs);
            stream.frames.set((stream.newest + m) >>> 0, lost);
          }
        }
        frame = newFrame(nowMs);
        stream.frames.set(n, frame);
        stream.newest = n;
        trim(stream);
      }
      if (frame.layout === undefined) {
        const total = h.chunkCount + h.fecGroups * h.fecParityPerGroup;
        frame.layout = { k: h.chunkCount, groups: h.fecGroups, parity: h.fecParityPerGroup, total };
        frame.received = new Uint8Array(total);
        const whole = frame.gaps.get(WHOLE);
        frame.gaps.delete(WHOLE);
        if (whole !== undefined && whole.tries > 0) frame.asked.add(WHOLE);
        // A frame asked for whole: what came before this chunk is lost too (it was sent earlier).
        if (whole !== undefined) gapsBelow(stream, frame, h.chunkIndex, nowMs);
        // A newer frame already arrived: the rest of this one is missing too.
        if (n !== stream.newest) gapsBelow(stream, frame, total, nowMs);
      }
      const received = frame.received!;
      const i = h.chunkIndex;
      if (i >= received.length || received[i] !== 0) return;
      received[i] = 1;
      const g = frame.gaps.get(i);
      if (g !== undefined) {
        frame.gaps.delete(i);
        if (g.tries > 0) counters.datagramsRecoveredByNack++;
      } else if (frame.asked.has(WHOLE)) counters.datagramsRecoveredByNack++;
      if (i > frame.highest) {
        gapsBelow(stream, frame, i, nowMs);
        frame.highest = i;
      }
    },

    duplicate(h) {
      const frame = streams.get(h.streamId)?.frames.get(h.frameNumber);
      if (frame !== undefined && (frame.asked.has(h.chunkIndex) || frame.asked.has(WHOLE)))
        counters.datagramsRequestedDuplicate++;
    },

    finished(streamId, frameNumber, outcome) {
      const stream = streams.get(streamId);
      if (stream === undefined) return;
      if (outcome === "dropped") counters.gapsExpired += stream.frames.get(frameNumber)?.gaps.size ?? 0;
      stream.frames.delete(frameNumber);
      if (outcome === "emitted")
        for (const n of [...stream.frames.keys()]) if (serialDiff(n, frameNumber) < 0) stream.frames.delete(n);
    },

    forget(streamId) {
      streams.delete(streamId);
    },

    due(nowMs) {
      const requests: NackRequest[] = [];
      for (const [streamId, stream] of streams) {
        const entries: NackEntry[] = [];
        // The stream went quiet: what its newest frame lacks after its highest chunk is lost (the end of a stream).
        const newest = stream.frames.get(stream.newest);
        if (newest?.layout !== undefined && nowMs - stream.lastArrivalMs >= reorderMs) {
          gapsBelow(stream, newest, newest.layout.total, stream.lastArrivalMs);
          stream.tailChecked = true;
        }
        for (const [n, frame] of stream.frames) {
          if (frame.gaps.size === 0) continue;
          if (nowMs - frame.firstSeenMs >= latencyMs) {
            counters.gapsExpired += frame.gaps.size;
            frame.gaps.clear();
            continue;
          }
          const ready = (g: Gap): boolean =>
            (stream.arrivals - g.sinceArrivals >= reorderDatagrams || nowMs - g.sinceMs >= reorderMs) &&
            (g.tries === 0 || nowMs - g.askedAtMs >= retryMs);
          const ask = (key: number, g: Gap): void => {
            g.tries++;
            g.askedAtMs = nowMs;
            frame.asked.add(key);
          };
          const whole = frame.gaps.get(WHOLE);
          if (whole !== undefined) {
            if (ready(whole)) {
              ask(WHOLE, whole);
              counters.framesRequested++;
              entries.push({ frameNumber: n, firstChunk: 0, chunkCount: WHOLE_FRAME });
            }
            continue;
          }
          const wanted = wantedChunks(frame, nowMs, ready);
          for (const i of wanted) ask(i, frame.gaps.get(i)!);
          counters.datagramsRequested += wanted.length;
          for (const entry of ranges(n, wanted)) entries.push(entry);
        }
        for (let at = 0; at < entries.length; at += MAX_NACK_ENTRIES) {
          requests.push({ streamId, replyTo: stream.replyTo, entries: entries.slice(at, at + MAX_NACK_ENTRIES) });
          counters.nacksSent++;
        }
      }
      return requests;
    },

    get pending() {
      for (const stream of streams.values()) {
        if (stream.frames.get(stream.newest)?.layout !== undefined) return true;
        for (const frame of stream.frames.values()) if (frame.gaps.size > 0) return true;
      }
      return false;
    },

    get nextDueMs() {
      let next = Number.POSITIVE_INFINITY;
      for (const stream of streams.values()) {
        if (!stream.tailChecked && stream.frames.get(stream.newest)?.layout !== undefined)
          next = Math.min(next, stream.lastArrivalMs + reorderMs);
        for (const frame of stream.frames.values()) {
          if (frame.gaps.size === 0) continue;
          next = Math.min(next, frame.firstSeenMs + latencyMs);
          for (const g of frame.gaps.values()) {
            if (g.tries > 0) next = Math.min(next, g.askedAtMs + retryMs);
            else if (stream.arrivals - g.sinceArrivals >= reorderDatagrams) return Number.NEGATIVE_INFINITY;
            else next = Math.min(next, g.sinceMs + reorderMs);
          }
        }
      }
      return next;
    },

    get counters() {
      return { ...counters };
    },
  };

  /** The data chunks to ask for now: per group, no more than the group lacks beyond its parity. */
  function wantedChunks(frame: TrackedFrame, nowMs: number, ready: (g: Gap) => boolean): number[] {
    const { k, groups, parity } = frame.layout!;
    const received = frame.received!;
    const out: number[] = [];
    if (parity === 0) {
      for (const [i, g] of frame.gaps) if (i < k && ready(g)) out.push(i);
      return out.sort((a, b) => a - b);
    }
    for (let group = 0; group < groups; group++) {
      const data = groupDataCount(group, k, groups);
      let held = 0;
      let inFlight = 0;
      const candidates: number[] = [];
      for (let p = 0; p < data; p++) {
        const i = p * groups + group;
        if (received[i] !== 0) held++;
        else {
          const g = frame.gaps.get(i);
          if (g === undefined) continue;
          if (g.tries > 0 && nowMs - g.askedAtMs < retryMs) inFlight++;
          else if (ready(g)) candidates.push(i);
        }
      }
      let mayCome = 0;
      for (let r = 0; r < parity; r++) {
        const i = k + r * groups + group;
        if (received[i] !== 0) held++;
        else if (!frame.gaps.has(i)) mayCome++;
      }
      const need = data - held - mayCome - inFlight;
      for (let c = 0; c < Math.min(need, candidates.length); c++) out.push(candidates[c]!);
    }
    return out.sort((a, b) => a - b);
  }
}

/** Sorted chunk indices of frame `n` as ranges. */
function ranges(n: number, sorted: readonly number[]): NackEntry[] {
  const out: NackEntry[] = [];
  let at = 0;
  while (at < sorted.length) {
    const first = sorted[at]!;
    let count = 1;
    while (at + count < sorted.length && sorted[at + count] === first + count) count++;
    out.push({ frameNumber: n, firstChunk: first, chunkCount: count });
    at += count;
  }
  return out;
}
