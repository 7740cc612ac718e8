import {
  checkAuthenticator,
  checkCipher,
  openDatagram,
  type Authenticator,
  type PayloadCipher,
  type TagVerdict,
} from "./auth.js";
import { ProtocolErrorCode, PROTOCOL_ERROR_CODES } from "./errors.js";
import {
  createFrameState,
  DIRECT_MIN_CHUNK_BYTES,
  framePayload,
  hasChunk,
  markChunk,
  newPayload,
  sameLayout,
  takePayload,
  takesPayloadEarly,
} from "./frame-state.js";
import { createFrameStore, type StreamState } from "./frame-store.js";
import { createDatagramFields, datagramViews, readDatagram, type DatagramFields } from "./header.js";
import { admissionLimits } from "./stream-admission.js";
import type { FrameEvent, ReassemblyEvent } from "./reassembly-events.js";
import type { NackTracker } from "./nack-tracker.js";
import { createWindowDecoder, type WindowCounters, type WindowDecoder } from "./window-decoder.js";
import { isRepairFailure, looksLikeRepair, repairVerdict, tryDecodeRepair } from "./window-fec.js";

/**
 * The v1 reassembler and its per-datagram path: decode, authenticate, check limits, place the
 * chunk, complete (rebuilding from parity) when the frame is whole. What it holds and evicts is
 * frame-store.ts; one frame's bookkeeping is frame-state.ts; chunk storage is block-pool.ts.
 */

export type {
  DropReason,
  DroppedEvent,
  FrameEvent,
  ReassemblyEvent,
  StreamEndedEvent,
  StreamStartedEvent,
} from "./reassembly-events.js";

export interface ReassemblerOptions {
  /** Larger frames are refused (TOO_LARGE) before any allocation. Default 64 MiB. */
  readonly maxFrameBytes?: number;
  /** Incomplete frames kept per stream; past it the oldest is dropped ("overflow"). Default 16. */
  readonly maxFramesInFlight?: number;
  /**
   * Streams tracked at once. A new stream replaces one that has not completed a frame yet, or is
   * refused (`datagramsOverStreamCap`): one that has keeps its place until idle past
   * `streamTimeoutMs` (see stream-admission.ts). Default 8.
   */
  readonly maxStreams?: number;
  /**
   * Streams tracked at once per source address (the `source` given to `push`); past it, a new
   * stream from that source only replaces one of its own that has not completed a frame, or is
   * refused (`datagramsOverSourceCap`). Default (and at most): maxStreams.
   */
  readonly maxStreamsPerSource?: number;
  /**
   * Bytes held by all incomplete (and parked) frames and the window FEC state together: the chunks that
   * arrived (not the sizes announced), their bookkeeping, and the sources and equations of window FEC
   * streams. Past it the oldest frame of the stream that holds the most bytes is dropped ("overflow");
   * a frame announcing more than this is refused. Window FEC state takes at most an eighth of it
   * (`WINDOW_BUDGET_SHARE`), split evenly over `maxStreams`: past its share a stream's window lets its
   * oldest sources go, then its oldest equations (`windowShed`). Default 256 MiB.
   */
  readonly maxBufferedBytes?: number;
  /** `expire` drops frames whose first datagram is older than this. Default 1000 ms. */
  readonly frameTimeoutMs?: number;
  /** `expire` forgets streams with no datagram for this long (their replay guard is kept). Default 10,000 ms. */
  readonly streamTimeoutMs?: number;
  /** When set, datagrams authenticated only (flag A) with a valid tag are accepted. */
  readonly authenticator?: Authenticator;
  /**
   * When set, encrypted datagrams (flag E) that open are accepted. With a cipher and no authenticator,
   * only encrypted ones are (the others counted `datagramsUnencrypted`); with both, either kind.
   */
  readonly cipher?: PayloadCipher;
  /**
   * When set, datagrams whose capture time (`timestampMs`, ms since the epoch on the sender's
   * clock) is earlier are refused once authenticated (`datagramsStale`), before any state is kept
   * for them. A receiver sets it to its start time less the clock skew it tolerates, so a recording
   * of an earlier session is not accepted again after a restart. Only meaningful with a key
   * (without one anyone can forge a fresh capture time).
   */
  readonly notBeforeMs?: number;
  /**
   * Window FEC streams (flag W): frames are emitted in order, a complete frame waiting at most this
   * long after the first datagram of an older incomplete one, which is then dropped ("timeout");
   * repair equations older than this are given up. Default 100 ms.
   */
  readonly latencyMs?: number;
  /**
   * Every stream in order within `latencyMs`, as window FEC streams are: an incomplete frame holds
   * the newer complete ones back until it completes or its budget runs out, so a retransmission
   * asked for (NACK) has time to arrive. Default false.
   */
  readonly ordered?: boolean;
  /**
   * Retransmission on request: told of every chunk accepted (with the `replyTo` given to `push`),
   * every duplicate and every frame finished, so it knows what to ask for (nack-tracker.ts).
   */
  readonly nack?: NackTracker;
  /**
   * Where each frame's bytes are written: a buffer of exactly `byteLength` bytes whose old contents do not
   * matter (every byte is written before the frame is emitted). A receiver passes buffers it got back from
   * where earlier frames went, so that steady traffic does not allocate (and fault in) a frame's worth of
   * fresh memory per frame. Called once per frame: for a frame whose chunks are at least
   * `RETAIN_MIN_CHUNK_BYTES` long (and of at most 256 data chunks) when its first datagram is accepted (each data
   * chunk is then copied straight into its place as it arrives, its only copy, and the whole payload counts
   * against `maxBufferedBytes` from then on), for other frames when the frame completes. Default: a new Uint8Array.
   */
  readonly allocatePayload?: (byteLength: number) => Uint8Array;
  /**
   * Gets back a payload `allocatePayload` gave for a frame that was then dropped (timed out, evicted, superseded,
   * overflow) before it was emitted: never delivered, its bytes are a torn frame's; the allocator may hand it out
   * again. Default: nothing (the buffer is left to the garbage collector).
   */
  readonly releasePayload?: (payload: Uint8Array) => void;
  /**
   * The caller hands each datagram over: `push` may keep a view of it after it returns (until its frame
   * completes or is dropped), so its bytes must not change afterwards. Since data chunks of frames whose chunks
   * are at least `RETAIN_MIN_CHUNK_BYTES` long go straight into the frame's payload as they arrive (with or
   * without this option: see `allocatePayload`; a frame of more than 256 data chunks copies them into blocks), it
   * keeps only the parity (FEC) chunks of frames with such chunks as views of
   * their datagrams (or of the plaintext `cipher.open` returned, which must then be a buffer of its own too)
   * instead of copying them into blocks; a parity chunk is read, not copied, if FEC rebuilds a data chunk, so a
   * frame that needs no rebuild never touches it. Measured, it saves no CPU to speak of (docs/benchmarks/receiver.md,
   * direct), and it keeps a parity datagram's buffer alive until its frame is done. A view is counted with its
   * whole buffer against `maxBufferedBytes`; a chunk whose buffer is more than twice its length (several datagrams
   * in one buffer) is copied into one of its own. Smaller chunks are copied into blocks as without it. For a socket
   * that hands out a fresh buffer per datagram (Node's `dgram` does). Default false: nothing is kept, and a caller
   * may reuse its buffer as soon as `push` returns.
   */
  readonly retainDatagrams?: boolean;
}

/** Plain-data counters. Datagram counters add up: every pushed datagram lands in exactly one. */
export interface ReassemblerCounters {
  /** Stored as a new data or parity chunk. */
  readonly datagramsAccepted: number;
  /** A chunk already held for its frame. */
  readonly datagramsDuplicate: number;
  /**
   * Refused by decode or a limit (see `malformedByCode`). Seed datagrams land here (BAD_MAGIC):
   * a receiver that wants to say so checks `looksLikeLegacyDatagram` itself.
   */
  readonly datagramsMalformed: number;
  readonly malformedByCode: Readonly<Record<ProtocolErrorCode, number>>;
  /** For a frame older than the last emitted of its stream, or one already dropped (replays land here too). */
  readonly datagramsLate: number;
  /** For a frame already emitted: parity that was not needed, or a replay. */
  readonly datagramsSurplus: number;
  /** Tagged, but the tag is wrong (or of the wrong length) for the configured key. */
  readonly datagramsUnauthenticated: number;
  /** A key is configured but the datagram has no tag. */
  readonly datagramsUntagged: number;
  /** No key is configured but the datagram is tagged: the sender uses a key. */
  readonly datagramsAuthRequired: number;
  /** Authenticated only (flag A without E) while the receiver accepts only encrypted datagrams (a cipher, no authenticator). */
  readonly datagramsUnencrypted: number;
  /**
   * Of the accepted, duplicate, late and surplus datagrams: those that arrived encrypted and opened. Not
   * one of the counters that add up; it says which mode the senders use.
   */
  readonly datagramsDecrypted: number;
  /** Authenticated, but captured before `notBeforeMs`: an earlier session replayed, or a sender clock far behind. */
  readonly datagramsStale: number;
  /** Of a new stream from a source that already has `maxStreamsPerSource` streams none of which may be replaced. */
  readonly datagramsOverSourceCap: number;
  /** Of a new stream while `maxStreams` are tracked and none may be replaced. */
  readonly datagramsOverStreamCap: number;
  /** Frames emitted (including recovered ones). */
  readonly framesComplete: number;
  /** Frames emitted with at least one chunk rebuilt by FEC. */
  readonly framesRecovered: number;
  /** Data chunks rebuilt by FEC. */
  readonly chunksRecovered: number;
  /** Frames given up (a `dropped` event each). */
  readonly framesDropped: number;
  /** Frames first seen after a newer frame of their stream was emitted: never started, not counted as dropped. */
  readonly framesLate: number;
  /** Window FEC: repair datagrams (in no other datagram counter), and what became of them. */
  readonly datagramsRepair: number;
  readonly repairsReceived: number;
  readonly repairsUnneeded: number;
  readonly repairsInconsistent: number;
  /** Verified, but for a stream no verified source started, or (flag E) with a salt of no source of it: another run's. */
  readonly repairsUnmatched: number;
  /** Window FEC: source datagrams rebuilt from repairs (each then counted like one that arrived). */
  readonly sourcesRecovered: number;
  readonly equationsExpired: number;
  /** Window FEC sources and equations let go early, to keep within the window share of `maxBufferedBytes`. */
  readonly windowShed: number;
  /** Bytes of every datagram pushed. */
  readonly bytesReceived: number;
  /** Bytes of the frames emitted. */
  readonly bytesEmitted: number;
  /** Gauges: streams tracked, frames in flight and the bytes they hold, now. */
  readonly streams: number;
  readonly framesInFlight: number;
  readonly bufferedBytes: number;
  /** Gauge: bytes of window FEC state (sources and equations) held now; with `bufferedBytes`, within `maxBufferedBytes`. */
  readonly windowBytes: number;
}

export interface Reassembler {
  /**
   * Takes one datagram and returns what it completed or dropped. Its bytes are copied where they belong,
   * or, with `retainDatagrams`, a large parity chunk may be kept as it is after `push` returns (the caller must
   * not change it then). `source` names where it came from (an address) for `maxStreamsPerSource`;
   * `replyTo` (address and port) where the `nack` tracker's requests for its stream go (default: `source`).
   */
  push(datagram: Uint8Array, nowMs: number, source?: string, replyTo?: string): ReassemblyEvent[];
  /**
   * Drops frames past `frameTimeoutMs` (an ordered stream's: `latencyMs`, which lets the frames parked behind them
   * go) and forgets streams past `streamTimeoutMs`. Call it at `nextExpiryMs`.
   */
  expire(nowMs: number): ReassemblyEvent[];
  /** A snapshot of the counters. */
  readonly counters: ReassemblerCounters;
  /**
   * The gauges `counters.framesInFlight` and `counters.streams`, read without a snapshot: `expire` has a frame
   * to time out only while `framesInFlight` is above 0 (a parked frame waits for one in flight), and a stream to
   * forget only while `streams` is. A receiver calls `expire` often while frames are in flight, seldom otherwise.
   */
  readonly framesInFlight: number;
  readonly streams: number;
  /**
   * When `expire` may next have work (on the clock of the `nowMs` given): never later than the first frame's
   * timeout or stream's idle timeout, at times earlier (a frame finished since, a stream active since: `expire`
   * then finds nothing and sets it again, exactly); `Infinity` with no stream tracked. A receiver arms one timer
   * for it, again when a datagram moves it earlier, instead of polling; `expire` before it returns nothing.
   */
  readonly nextExpiryMs: number;
}

export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_FRAMES_IN_FLIGHT = 16;
export const DEFAULT_MAX_STREAMS = 8;
export const DEFAULT_MAX_BUFFERED_BYTES = 256 * 1024 * 1024;
export const DEFAULT_FRAME_TIMEOUT_MS = 1000;
export const DEFAULT_STREAM_TIMEOUT_MS = 10_000;
export const DEFAULT_LATENCY_MS = 100;
/**
 * Frames whose chunks are at least this long take their payload at their first datagram and get each data chunk
 * copied straight into it (see `allocatePayload`); with `retainDatagrams` their parity chunks are kept as views.
 * Below it the chunks go into blocks and are copied into the payload when the frame completes: a payload taken
 * early would reserve a whole frame per small datagram, and a view per 1.4 KB chunk (with the buffer it keeps
 * alive) costs more than the copy it saves. docs/benchmarks/receiver.md (rxcopy, direct) has the measurements.
 */
export const RETAIN_MIN_CHUNK_BYTES = DIRECT_MIN_CHUNK_BYTES;
/** Window FEC state takes at most 1 / WINDOW_BUDGET_SHARE of maxBufferedBytes (4 MiB a stream by default). */
export const WINDOW_BUDGET_SHARE = 8;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The counter each refused tag lands in. */
const TAG_COUNTER: Readonly<
  Record<
    Exclude<TagVerdict, "accepted">,
    "datagramsAuthRequired" | "datagramsUntagged" | "datagramsUnauthenticated" | "datagramsUnencrypted"
  >
> = {
  "auth-required": "datagramsAuthRequired",
  untagged: "datagramsUntagged",
  unauthenticated: "datagramsUnauthenticated",
  unencrypted: "datagramsUnencrypted",
};

/** An option's value or its default, checked (RangeError naming it). */
export function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${String(v)}`);
  return v;
}

/** A v1 reassembler: datagrams in, frames out. Synchronous; no sockets, no timers. */
export function createReassembler(options: ReassemblerOptions = {}): Reassembler {
  const maxFrameBytes = positiveInteger("maxFrameBytes", options.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES);
  const limits = {
    maxFramesInFlight: positiveInteger("maxFramesInFlight", options.maxFramesInFlight, DEFAULT_MAX_FRAMES_IN_FLIGHT),
    ...admissionLimits(
      positiveInteger("maxStreams", options.maxStreams, DEFAULT_MAX_STREAMS),
      options.maxStreamsPerSource,
    ),
    maxBufferedBytes: positiveInteger("maxBufferedBytes", options.maxBufferedBytes, DEFAULT_MAX_BUFFERED_BYTES),
    frameTimeoutMs: positiveInteger("frameTimeoutMs", options.frameTimeoutMs, DEFAULT_FRAME_TIMEOUT_MS),
    streamTimeoutMs: positiveInteger("streamTimeoutMs", options.streamTimeoutMs, DEFAULT_STREAM_TIMEOUT_MS),
    latencyMs: positiveInteger("latencyMs", options.latencyMs, DEFAULT_LATENCY_MS),
    ordered: options.ordered === true,
  };
  const nack = options.nack;
  const protection = { authenticator: options.authenticator, cipher: options.cipher };
  const notBeforeMs = options.notBeforeMs;
  const allocatePayload = options.allocatePayload ?? newPayload;
  const retainDatagrams = options.retainDatagrams === true;
  if (notBeforeMs !== undefined && !Number.isFinite(notBeforeMs))
    throw new RangeError(`notBeforeMs must be a finite number, got ${String(notBeforeMs)}`);
  checkAuthenticator(protection.authenticator, "authenticator");
  checkCipher(protection.cipher, "cipher");

  const malformedByCode = Object.fromEntries(PROTOCOL_ERROR_CODES.map((code) => [code, 0])) as Record<
    ProtocolErrorCode,
    number
  >;
  const w: WindowCounters = {
    repairsReceived: 0,
    repairsUnneeded: 0,
    repairsInconsistent: 0,
    repairsUnmatched: 0,
    sourcesRecovered: 0,
    equationsExpired: 0,
    windowShed: 0,
  };
  const windows = new Map<number, WindowDecoder>();
  const windowShare = Math.floor(limits.maxBufferedBytes / WINDOW_BUDGET_SHARE / limits.maxStreams);
  const windowBytes = (): number => {
    let bytes = 0;
    for (const window of windows.values()) bytes += window.heldBytes;
    return bytes;
  };
  const c: Mutable<
    Omit<
      ReassemblerCounters,
      keyof WindowCounters | "malformedByCode" | "streams" | "framesInFlight" | "bufferedBytes" | "windowBytes"
    >
  > = {
    datagramsAccepted: 0,
    datagramsDuplicate: 0,
    datagramsMalformed: 0,
    datagramsLate: 0,
    datagramsSurplus: 0,
    datagramsUnauthenticated: 0,
    datagramsUntagged: 0,
    datagramsAuthRequired: 0,
    datagramsUnencrypted: 0,
    datagramsDecrypted: 0,
    datagramsStale: 0,
    datagramsOverSourceCap: 0,
    datagramsOverStreamCap: 0,
    framesComplete: 0,
    framesRecovered: 0,
    chunksRecovered: 0,
    framesDropped: 0,
    framesLate: 0,
    datagramsRepair: 0,
    bytesReceived: 0,
    bytesEmitted: 0,
  };
  // The store counts the frames it drops in c.framesDropped.
  const store = createFrameStore(limits, c, windowBytes, options.releasePayload);

  function malformed(code: ProtocolErrorCode): ReassemblyEvent[] {
    c.datagramsMalformed++;
    malformedByCode[code]++;
    return [];
  }

  function windowOf(streamId: number): WindowDecoder {
    let window = windows.get(streamId);
    if (window === undefined) {
      window = createWindowDecoder(limits.latencyMs, w, windowShare);
      windows.set(streamId, window);
    }
    return window;
  }

  /** Forgets the window state of streams the store forgot. */
  function prune(events: ReassemblyEvent[]): ReassemblyEvent[] {
    for (const event of events) {
      if (event.type === "stream-ended") {
        windows.delete(event.streamId);
        nack?.forget(event.streamId);
      } else if (event.type === "dropped") nack?.finished(event.streamId, event.frameNumber, "dropped");
      else if (event.type === "frame") nack?.finished(event.streamId, event.frameNumber, "emitted");
    }
    return events;
  }

  let replyTo = "";
  function push(datagram: Uint8Array, nowMs: number, source?: string, reply?: string): ReassemblyEvent[] {
    c.bytesReceived += datagram.length;
    replyTo = reply ?? source ?? "";
    return prune(looksLikeRepair(datagram) ? pushRepair(datagram, nowMs, source) : pushSource(datagram, nowMs, source));
  }

  function pushRepair(datagram: Uint8Array, nowMs: number, source: string | undefined): ReassemblyEvent[] {
    const r = tryDecodeRepair(datagram);
    if (isRepairFailure(r)) return malformed(r.code);
    const verdict = repairVerdict(r, protection);
    if (verdict !== "accepted") {
      c[TAG_COUNTER[verdict]]++;
      return [];
    }
    c.datagramsRepair++;
    // A repair never starts a stream or window state: only a verified source, admitted, does. An encrypted
    // one must carry the salt of a source of the stream (its run's), or it is another run's.
    const window = windows.get(r.streamId);
    if (window === undefined || (r.salt !== undefined && !window.knowsSalt(r.salt))) {
      w.repairsUnmatched++;
      return [];
    }
    const events: ReassemblyEvent[] = [];
    const stream = store.stream(r.streamId, nowMs, source, events);
    if (typeof stream === "string") {
      c[stream === "source" ? "datagramsOverSourceCap" : "datagramsOverStreamCap"]++;
      return events;
    }
    for (const rebuilt of window.repair(r, nowMs)) events.push(...pushSource(rebuilt, nowMs, source));
    store.fit(events);
    return events;
  }

  // The per-datagram path reads each source datagram's header into this one object (see readDatagram):
  // nothing of it is kept past the datagram (a new frame copies its header), and it is read again only once
  // `place` is done with it (window FEC pushes the datagrams it rebuilt after placing this one).
  const fields = createDatagramFields();
  const unprotected = protection.authenticator === undefined && protection.cipher === undefined;

  function pushSource(datagram: Uint8Array, nowMs: number, source: string | undefined): ReassemblyEvent[] {
    const d = fields;
    const failed = readDatagram(datagram, d);
    if (failed !== undefined) return malformed(failed.code);
    // Without a key the payload is read where it lies (a view is made only to copy it); with one, opened.
    let opened: Uint8Array | undefined;
    if (unprotected) {
      if (d.tagBytes > 0) {
        c.datagramsAuthRequired++;
        return [];
      }
    } else {
      const result = openDatagram(datagramViews(datagram, d), protection);
      if (typeof result === "string") {
        c[TAG_COUNTER[result]]++;
        return [];
      }
      opened = result;
    }
    if (d.encrypted) c.datagramsDecrypted++;
    if (d.frameBytes > maxFrameBytes) return malformed(ProtocolErrorCode.TooLarge);
    if (notBeforeMs !== undefined && d.timestampMs < notBeforeMs) {
      c.datagramsStale++;
      return [];
    }

    const events: ReassemblyEvent[] = [];
    const stream = store.stream(d.streamId, nowMs, source, events);
    if (typeof stream === "string") {
      c[stream === "source" ? "datagramsOverSourceCap" : "datagramsOverStreamCap"]++;
      return events;
    }
    if (d.windowSequence !== undefined) {
      store.order(stream);
      const rebuilt = windowOf(d.streamId).source(d.windowSequence, datagram, nowMs);
      place(d, datagram, opened, stream, nowMs, events);
      for (const bytes of rebuilt) events.push(...pushSource(bytes, nowMs, source));
      store.fit(events);
      return events;
    }
    place(d, datagram, opened, stream, nowMs, events);
    return events;
  }

  /**
   * The frame part of a source datagram that decoded and verified: `opened` is its plaintext payload, or
   * undefined when that is the datagram's own bytes at `d.payloadStart` to `d.payloadEnd`.
   */
  function place(
    d: DatagramFields,
    datagram: Uint8Array,
    opened: Uint8Array | undefined,
    stream: StreamState,
    nowMs: number,
    events: ReassemblyEvent[],
  ): void {
    const n = d.frameNumber;
    let frame = stream.frames.get(n);
    if (frame === undefined) {
      switch (store.outcome(stream, n)) {
        case "emitted":
          c.datagramsSurplus++;
          return;
        case "dropped":
          c.datagramsLate++;
          return;
        case "behind":
          c.datagramsLate++;
          c.framesLate++;
          store.rememberBehind(stream, n);
          return;
        case undefined:
          break;
      }
      frame = createFrameState(d, nowMs);
      if (!store.open(stream, n, frame, events)) {
        c.datagramsLate++;
        return;
      }
      if (takesPayloadEarly(d)) {
        try {
          takePayload(frame, allocatePayload);
        } catch (error) {
          // An allocator that gave the wrong size (a bug of the caller's): the frame goes, nothing is kept.
          store.drop(stream, n, frame, "overflow", events);
          throw error;
        }
      }
    } else if (!sameLayout(frame.first, d)) {
      malformed(ProtocolErrorCode.Inconsistent);
      return;
    }

    const index = d.chunkIndex;
    if (hasChunk(frame, index)) {
      c.datagramsDuplicate++;
      nack?.duplicate(d);
      return;
    }
    // A plain view, not the datagram's own kind: `subarray` of a Node Buffer runs its subclass's constructor.
    const chunk =
      opened ?? new Uint8Array(datagram.buffer, datagram.byteOffset + d.payloadStart, d.payloadEnd - d.payloadStart);
    // A data chunk of a frame with its payload goes straight into it (counted with the payload); parity is held,
    // as a view with retainDatagrams. No data chunk is ever kept as a view.
    const direct = frame.payload !== undefined && index < d.chunkCount;
    if (direct) store.write(frame, index, chunk);
    const placed =
      direct ||
      (retainDatagrams && index >= d.chunkCount && d.chunkBytes >= RETAIN_MIN_CHUNK_BYTES
        ? store.hold(frame, index, chunk.buffer.byteLength > 2 * chunk.length ? new Uint8Array(chunk) : chunk, events)
        : store.place(frame, index, chunk, events));
    if (!placed) {
      store.drop(stream, n, frame, "overflow", events);
      c.datagramsLate++;
      return;
    }
    c.datagramsAccepted++;
    nack?.observe(d, nowMs, replyTo);
    if (!markChunk(frame, index)) return;
    nack?.finished(stream.streamId, n, "complete");

    const { payload, rebuilt } = framePayload(frame, allocatePayload);
    c.framesComplete++;
    if (rebuilt > 0) {
      c.framesRecovered++;
      c.chunksRecovered += rebuilt;
    }
    c.bytesEmitted += payload.length;
    const { codec, width, height, fps, timestampMs } = frame.first;
    const event: FrameEvent = {
      type: "frame",
      streamId: stream.streamId,
      frameNumber: n,
      codec,
      width,
      height,
      fps,
      timestampMs,
      payload,
      recovered: rebuilt > 0,
      firstArrivalMs: frame.firstArrivalMs,
    };
    store.emit(stream, n, frame, event, events);
  }

  return {
    push,
    expire: (nowMs) => prune(store.expire(nowMs)),
    get framesInFlight() {
      return store.framesInFlight;
    },
    get streams() {
      return store.streams;
    },
    get nextExpiryMs() {
      return store.nextExpiryMs;
    },
    get counters(): ReassemblerCounters {
      return {
        ...c,
        ...w,
        malformedByCode: { ...malformedByCode },
        streams: store.streams,
        framesInFlight: store.framesInFlight,
        bufferedBytes: store.bufferedBytes,
        windowBytes: windowBytes(),
      };
    },
  };
}
