/**
 * The reassembler of the configured wire format behind one face: datagrams in,
 * the protocol's `FrameEvent`s out. The original scripts' format carries no
 * stream id, size, rate or capture time, so its frames get the constants it
 * implies and the time they completed here.
 */
import {
  Codec,
  createLegacyReassembler,
  createReassembler,
  createNackTracker,
  createRtpJpegReassembler,
  encodeNack,
  looksLikeLegacyDatagram,
  looksLikeV1,
  LEGACY_FRAME_HEIGHT,
  LEGACY_FRAME_WIDTH,
  type FrameEvent,
  type LegacyMode,
  type NackTrackerCounters,
} from "@udpcam/protocol";
import { createKeyring } from "@udpcam/protocol/node";
import type { ProtocolCounters, StreamFrameCounters } from "./messages.js";
import { RtpFrameRate } from "./rtp-frame-rate.js";
import { rtpSsrc, StreamCounts, v1StreamId } from "./stream-counts.js";

export interface FrameAssembler {
  /** Whether a frame's `timestampMs` is the sender's capture time. */
  readonly senderClock: boolean;
  /**
   * `source`: the sender's address, for the per-source stream cap; `replyTo`: its address and port, where
   * NACKs for its stream go (`--nack on`).
   */
  push(datagram: Uint8Array, now: number, source?: string, replyTo?: Endpoint): readonly FrameEvent[];
  /** Drops what is too old; returns frames that were waiting for it (window FEC streams). */
  expire(now: number): readonly FrameEvent[];
  counters(): ProtocolCounters;
  /** Frames in flight and streams tracked, read cheaply (a change in them is worth a counters report). */
  readonly framesInFlight: number;
  readonly streams: number;
  /**
   * When `expire` may next have work, on the clock of the `now` given (see the protocol's `nextExpiryMs`): never
   * later than a frame's or a stream's timeout; `Infinity` when nothing can time out.
   */
  readonly nextExpiryMs: number;
  /** Frames complete, rebuilt and dropped per stream. */
  streamCounters(): StreamFrameCounters[];
  /** v1 with a key: the keys accepted from now on (a rotation), the newest first. */
  setKeys?(keys: readonly Uint8Array[]): void;
  /** v1 with `--nack on`: the NACK datagrams due now, each with where it goes. */
  nacks?(now: number): OutgoingNack[];
  /** v1 with `--nack on`: when `nacks` may next have work (the tracker's `nextDueMs`; `Infinity`: none pending). */
  nextNackMs?(): number;
  /** A NACK the socket could not send (counted). */
  nackSendFailed?(): void;
}

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

export interface OutgoingNack {
  readonly bytes: Uint8Array;
  readonly to: Endpoint;
}

/** What `push` returns for a datagram that completed no frame (most of them). */
const NO_FRAMES: readonly FrameEvent[] = Object.freeze([]);

/** The original scripts have one stream, at 25 fps, with no id: this stands for it. */
export const LEGACY_STREAM_ID = 0;
export const LEGACY_FPS = 25;

/** The stream caps both reassemblers take (see the protocol's stream-admission.ts); defaults: theirs. */
export interface StreamCaps {
  readonly maxStreams?: number;
  readonly maxStreamsPerSource?: number;
}

export interface V1AssemblerSettings extends StreamCaps {
  readonly key: Uint8Array | undefined;
  /** With a key: only encrypted datagrams (true), or authenticated-only ones too (false). */
  readonly encrypt: boolean;
  /** With a key: refuse datagrams captured before this (see the protocol's `notBeforeMs`). */
  readonly notBeforeMs?: number | undefined;
  readonly maxFrameBytes: number;
  readonly frameTimeout: number;
  readonly latency: number;
  /** Ask the sender for what is missing (NACK), and deliver every stream in order within `latency`. */
  readonly nack?: boolean;
  /** Where completed frames' bytes go (see the protocol's `allocatePayload`); default: new buffers. */
  readonly allocatePayload?: (byteLength: number) => Uint8Array;
  /** Where the payloads of frames dropped before delivery go back (see the protocol's `releasePayload`). */
  readonly releasePayload?: (payload: Uint8Array) => void;
}

/** A reply endpoint as the tracker keeps it: one string, the port after the last colon (IPv6 addresses have colons). */
function endpointKey(e: Endpoint): string {
  return `${e.address}:${e.port}`;
}

function parseEndpoint(key: string): Endpoint {
  const at = key.lastIndexOf(":");
  return { address: key.slice(0, at), port: Number(key.slice(at + 1)) };
}

export function createV1Assembler(settings: V1AssemblerSettings): FrameAssembler {
  const keys = settings.key === undefined ? undefined : createKeyring([settings.key]);
  const tracker =
    settings.nack === true
      ? createNackTracker({
          latencyMs: settings.latency,
          ...(settings.maxStreams === undefined ? {} : { maxStreams: settings.maxStreams }),
        })
      : undefined;
  const reassembler = createReassembler({
    ...(tracker === undefined ? {} : { ordered: true, nack: tracker }),
    maxFrameBytes: settings.maxFrameBytes,
    frameTimeoutMs: settings.frameTimeout,
    maxStreams: settings.maxStreams,
    maxStreamsPerSource: settings.maxStreamsPerSource,
    latencyMs: settings.latency,
    ...(settings.allocatePayload === undefined ? {} : { allocatePayload: settings.allocatePayload }),
    ...(settings.releasePayload === undefined ? {} : { releasePayload: settings.releasePayload }),
    ...(keys === undefined
      ? {}
      : settings.encrypt
        ? { cipher: keys.cipher }
        : { cipher: keys.cipher, authenticator: keys.authenticator }),
    // Without a key anyone can forge a fresh capture time: the check would only refuse honest senders.
    ...(keys === undefined || settings.notBeforeMs === undefined ? {} : { notBeforeMs: settings.notBeforeMs }),
  });
  let datagramsLegacyLike = 0;
  let nackSendErrors = 0;
  const perStream = new StreamCounts();
  // A stream's datagrams come from one endpoint: its key is built when the endpoint changes, not per datagram.
  let lastReply: Endpoint | undefined;
  let lastReplyKey = "";
  const replyKey = (e: Endpoint): string => {
    if (lastReply === undefined || e.port !== lastReply.port || e.address !== lastReply.address) {
      lastReply = { address: e.address, port: e.port };
      lastReplyKey = endpointKey(e);
    }
    return lastReplyKey;
  };
  return {
    senderClock: true,
    push(datagram, now, source, replyTo) {
      if (!looksLikeV1(datagram) && looksLikeLegacyDatagram(datagram)) datagramsLegacyLike++;
      const events = reassembler.push(
        datagram,
        now,
        source,
        tracker === undefined || replyTo === undefined ? undefined : replyKey(replyTo),
      );
      // Most datagrams complete nothing: no array for them.
      let frames = NO_FRAMES;
      if (events.length > 0) {
        const completed: FrameEvent[] = [];
        for (const event of events) {
          perStream.count(event);
          if (event.type === "frame") completed.push(event);
        }
        frames = completed;
      }
      // After the events: the datagram that started its stream counts for it.
      const streamId = v1StreamId(datagram);
      if (streamId !== undefined) perStream.datagram(streamId);
      return frames;
    },
    expire(now) {
      const frames: FrameEvent[] = [];
      for (const event of reassembler.expire(now)) {
        perStream.count(event);
        if (event.type === "frame") frames.push(event);
      }
      return frames;
    },
    get framesInFlight() {
      return reassembler.framesInFlight;
    },
    get streams() {
      return reassembler.streams;
    },
    get nextExpiryMs() {
      return reassembler.nextExpiryMs;
    },
    counters: () => ({
      ...reassembler.counters,
      format: "v1",
      datagramsLegacyLike,
      nack: { ...(tracker?.counters ?? NO_NACK_COUNTERS), nackSendErrors },
    }),
    streamCounters: () => perStream.list(),
    ...(keys === undefined ? {} : { setKeys: (next: readonly Uint8Array[]) => keys.setKeys(next) }),
    ...(tracker === undefined
      ? {}
      : {
          // Tagged with the key's HMAC whatever --encrypt says: the sender answers only NACKs that verify.
          nacks: (now: number) =>
            tracker.due(now).map((request) => ({
              bytes: encodeNack(request.streamId, request.entries, keys?.authenticator),
              to: parseEndpoint(request.replyTo),
            })),
          nextNackMs: () => tracker.nextDueMs,
          nackSendFailed: () => void nackSendErrors++,
        }),
  };
}

/** The NACK counters of a receiver with --nack off: all 0. */
export const NO_NACK_COUNTERS: NackTrackerCounters = createNackTracker({ latencyMs: 1 }).counters;

export interface LegacyAssemblerSettings {
  readonly mode: LegacyMode;
  /**
   * Datagrams the kernel dropped on the socket so far, or undefined where it cannot
   * tell. In strict mode a frame during which this moved is not emitted: the format
   * has no frame id, so a run of lost datagrams that ends where it began in the
   * 0..19 cycle leaves chunks of two frames that read as one. On loopback the only
   * loss is a full receive buffer, which the kernel counts.
   */
  readonly kernelDrops: () => number | undefined;
  /** How many legacy datagrams the socket's receive buffer can hold at most (its size / a datagram's bytes). */
  readonly bufferDatagrams?: number;
}

export function createLegacyAssembler(settings: LegacyAssemblerSettings): FrameAssembler {
  const reassembler = createLegacyReassembler({ mode: settings.mode });
  const checkDrops = settings.mode === "strict";
  // The kernel counts a drop when a datagram arrives to a full buffer: the datagram lost comes after every one
  // read before the count moved, and at most a buffer's worth after the one read when we see it move (it would
  // have come after the datagrams queued then). Every frame that starts in that span may hold it, so none of them is emitted. The count is read at each frame's index 0
  // and at each completion, so a frame already emitted ended before any loss seen later.
  const span = settings.bufferDatagrams ?? 0;
  let lastDrops = checkDrops ? settings.kernelDrops() : undefined;
  let read = 0;
  let frameStart = 0;
  let taintedThrough = -1;
  const look = (): void => {
    const drops = settings.kernelDrops();
    if (drops !== lastDrops) taintedThrough = read + span;
    lastDrops = drops;
  };
  let framesDroppedForKernelLoss = 0;
  const perStream = new StreamCounts();
  perStream.track(LEGACY_STREAM_ID);
  return {
    senderClock: false,
    push(datagram, now) {
      read++;
      if (looksLikeLegacyDatagram(datagram)) perStream.datagram(LEGACY_STREAM_ID);
      if (checkDrops && looksLikeLegacyDatagram(datagram) && datagram[0] === 0) {
        frameStart = read;
        look();
      }
      const frames: FrameEvent[] = [];
      for (const event of reassembler.push(datagram, now)) {
        if (event.type !== "frame") {
          perStream.dropped(LEGACY_STREAM_ID);
          continue;
        }
        if (checkDrops) look();
        if (checkDrops && frameStart <= taintedThrough) {
          framesDroppedForKernelLoss++;
          perStream.dropped(LEGACY_STREAM_ID);
          continue;
        }
        perStream.complete(LEGACY_STREAM_ID);
        frames.push({
          type: "frame",
          streamId: LEGACY_STREAM_ID,
          frameNumber: event.frameNumber,
          codec: Codec.RawBgr24,
          width: LEGACY_FRAME_WIDTH,
          height: LEGACY_FRAME_HEIGHT,
          fps: LEGACY_FPS,
          timestampMs: Date.now(),
          payload: event.payload,
          recovered: false,
          firstArrivalMs: now,
        });
      }
      return frames;
    },
    expire: () => [],
    // Its reassembler has no timeouts: a frame is complete or replaced by the next one's index 0.
    framesInFlight: 0,
    streams: 0,
    nextExpiryMs: Number.POSITIVE_INFINITY,
    counters: () => ({ ...reassembler.counters, format: "legacy", framesDroppedForKernelLoss }),
    streamCounters: () => perStream.list(),
  };
}

export interface RtpAssemblerSettings extends StreamCaps {
  readonly maxFrameBytes: number;
  readonly frameTimeout: number;
}

/**
 * RTP/JPEG (RFC 2435): each SSRC a stream, JPEG files rebuilt whole or not at all. RTP
 * timestamps count on the sender's media clock, not the epoch (there is no RTCP sender report
 * to map them), so a frame's time is when it completed here; its rate is the clock's steps
 * (see rtp-frame-rate.ts), from the stream's second frame.
 */
export function createRtpAssembler(settings: RtpAssemblerSettings): FrameAssembler {
  const reassembler = createRtpJpegReassembler({
    maxFrameBytes: settings.maxFrameBytes,
    frameTimeoutMs: settings.frameTimeout,
    maxStreams: settings.maxStreams,
    maxStreamsPerSource: settings.maxStreamsPerSource,
  });
  let datagramsV1Like = 0;
  const perStream = new StreamCounts();
  const rates = new RtpFrameRate();
  return {
    senderClock: false,
    push(datagram, now, source) {
      if (looksLikeV1(datagram)) datagramsV1Like++;
      const frames: FrameEvent[] = [];
      for (const event of reassembler.push(datagram, now, source)) {
        perStream.count(event);
        if (event.type === "stream-ended") rates.forget(event.streamId);
        if (event.type === "frame")
          frames.push({
            ...event,
            timestampMs: Date.now(),
            fps: rates.frame(event.streamId, event.rtpTimestamp),
          });
      }
      const ssrc = rtpSsrc(datagram);
      if (ssrc !== undefined) perStream.datagram(ssrc);
      return frames;
    },
    expire(now) {
      for (const event of reassembler.expire(now)) {
        perStream.count(event);
        if (event.type === "stream-ended") rates.forget(event.streamId);
      }
      return [];
    },
    get framesInFlight() {
      return reassembler.framesInFlight;
    },
    get streams() {
      return reassembler.streams;
    },
    get nextExpiryMs() {
      return reassembler.nextExpiryMs;
    },
    counters: () => ({ ...reassembler.counters, format: "rtp", datagramsV1Like }),
    streamCounters: () => perStream.list(),
  };
}
