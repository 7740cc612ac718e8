/**
 * What crosses between the ingest thread (socket + reassembler) and its handle
 * on the main thread. Frames are the protocol package's own `FrameEvent`, and
 * counters keep the protocol's own types.
 */
import {
  createNackTracker,
  createReassembler,
  type FrameEvent,
  type LegacyCounters,
  type LegacyMode,
  type NackTrackerCounters,
  type ReassemblerCounters,
  type RtpJpegCounters,
} from "@udpcam/protocol";

/** What the ingest thread needs to listen and reassemble. */
export interface IngestSettings {
  readonly host: string;
  readonly port: number;
  /** When `host` is a multicast group: the interface to join it on, and the one sender to accept (SSM). */
  readonly multicastInterface: string | undefined;
  readonly sourceAddress: string | undefined;
  readonly protocol: "v1" | "legacy" | "rtp";
  readonly legacyMode: LegacyMode;
  /** Key material (a raw key's bytes, or a stretched passphrase): v1 datagrams must be made with it. */
  readonly key: Uint8Array | undefined;
  /** With a key: true accepts only encrypted datagrams (flag E); false accepts authenticated-only ones too. */
  readonly encrypt: boolean;
  readonly maxFrameBytes: number;
  readonly frameTimeout: number;
  /** Window FEC and NACK streams: how long a frame may wait for an older one (the reassembler's latencyMs). */
  readonly latency: number;
  /** v1: ask the sender for what is missing (--nack on). */
  readonly nack: boolean;
  readonly receiveBufferBytes: number;
  /** Streams the reassembler tracks at once, in all and per source address (--max-streams...). */
  readonly maxStreams: number;
  readonly maxStreamsPerSource: number;
  /** With a key: datagrams captured (sender's clock, ms since the epoch) before this are refused as stale. */
  readonly notBeforeMs: number | undefined;
  /** --idle-exit in ms: counters are sent once no datagram came for this long (undefined: never). */
  readonly idleMs: number | undefined;
  /**
   * Who reads the socket: the native batch reader where it can run, else Node's dgram ("native", the default), or
   * dgram whatever (--socket-reader dgram).
   */
  readonly reader?: "native" | "dgram";
  /**
   * The main thread's frame memory (a memfd, `@udpcam/video`'s `FrameMemory`): once the main thread reserves it
   * (command `frame-memory`), raw frames are completed in its slots, for the recorder's encoder to read there.
   */
  readonly frameMemoryFd?: number;
}

/** The reassembler's counters, plus what the ingest counts around it. Field names are --stats's. */
export type ProtocolCounters =
  | (ReassemblerCounters & {
      readonly format: "v1";
      /** Refused as malformed, and shaped like the original scripts' datagrams: the sender may use --protocol legacy. */
      readonly datagramsLegacyLike: number;
      /** Retransmission on request (--nack on; all 0 when off). */
      readonly nack: NackTrackerCounters & {
        /** NACK datagrams the socket failed to send. */
        readonly nackSendErrors: number;
      };
    })
  | (LegacyCounters & {
      readonly format: "legacy";
      /** Complete frames not emitted because the kernel dropped datagrams while they arrived (strict mode). */
      readonly framesDroppedForKernelLoss: number;
    })
  | (RtpJpegCounters & {
      readonly format: "rtp";
      /** Refused (as RTP version 1), and shaped like udpcam v1 datagrams: the sender may use --protocol v1. */
      readonly datagramsV1Like: number;
    });

/** One stream's frame totals as the reassembler saw them (before the stream gate). */
export interface StreamFrameCounters {
  readonly streamId: number;
  /**
   * Datagrams read that carry the stream's id (v1 sources and repairs, RTP's SSRC; every legacy datagram) while
   * the reassembler tracks the stream, refused ones (duplicates, late, a forger's) included.
   */
  readonly datagramsReceived: number;
  readonly framesComplete: number;
  readonly framesRecovered: number;
  readonly framesDropped: number;
}

/**
 * Sent at most every 250 ms while datagrams arrive or frames expire (none while nothing changes), once no datagram
 * came for `idleMs`, and at close.
 */
export interface IngestCounters {
  readonly datagramsReceived: number;
  readonly bytesReceived: number;
  /** Native reader: datagrams longer than a ring slot (dropped), and failed reads; both 0 with dgram. */
  readonly datagramsTruncated: number;
  readonly receiveErrors: number;
  /** Milliseconds since the last datagram when these counters were taken; undefined before the first. */
  readonly msSinceLastDatagram: number | undefined;
  readonly protocol: ProtocolCounters;
  /** Per stream the reassembler tracks now (a stream it forgot is gone from the list). */
  readonly streams: readonly StreamFrameCounters[];
}

/**
 * A complete frame. `senderClock` says whether `frame.timestampMs` is the sender's
 * capture time (v1) or, for a format that carries none (legacy), the moment the
 * frame completed here.
 */
export interface IngestedFrame {
  readonly frame: FrameEvent;
  readonly senderClock: boolean;
  /** Wall-clock ms when the frame completed. */
  readonly completedAt: number;
}

/** Messages from the ingest thread to the main thread. */
export type IngestMessage =
  | {
      readonly type: "listening";
      readonly address: string;
      readonly port: number;
      readonly receiveBuffer: number;
      readonly group: string | undefined;
      /** Who reads the socket, for the start-up log: "native (recvmmsg, ...)" or "dgram (why)". */
      readonly reader: string;
    }
  | { readonly type: "bind-failed"; readonly code: string | undefined; readonly message: string }
  | {
      readonly type: "frame";
      readonly ingested: IngestedFrame;
      /** Set when the payload is in the frame memory: in slot `slot`, `byteLength` bytes (the frame's payload is empty). */
      readonly inFrameMemory?: { readonly slot: number; readonly byteLength: number };
    }
  | { readonly type: "counters"; readonly counters: IngestCounters }
  | { readonly type: "closed"; readonly counters: IngestCounters }
  | { readonly type: "failed"; readonly message: string; readonly stack: string | undefined };

/** Messages from the main thread to the ingest thread. */
export type IngestCommand =
  | { readonly type: "close" }
  /** A rotation: the keys datagrams may be made with from now on, the newest first. */
  | { readonly type: "keys"; readonly keys: readonly Uint8Array[] }
  /**
   * Frames' buffers (transferred), and frame memory slots, that nothing on the main thread references any more: for
   * the next frames.
   */
  | { readonly type: "recycle"; readonly buffers: readonly ArrayBuffer[]; readonly slots: readonly number[] }
  /** The frame memory is reserved with this layout (`SlotLayout`): complete raw frames that fit its slots there. */
  | {
      readonly type: "frame-memory";
      readonly layout: { readonly count: number; readonly stride: number; readonly offset: number };
    };

/** Counters before the ingest thread reported any: the v1 reassembler's own zeros. */
export const EMPTY_INGEST_COUNTERS: IngestCounters = {
  datagramsReceived: 0,
  bytesReceived: 0,
  datagramsTruncated: 0,
  receiveErrors: 0,
  msSinceLastDatagram: undefined,
  streams: [],
  protocol: {
    ...createReassembler().counters,
    format: "v1",
    datagramsLegacyLike: 0,
    nack: { ...createNackTracker({ latencyMs: 1 }).counters, nackSendErrors: 0 },
  },
};

/** The frame totals every format has, whatever else it counts. */
export function frameTotals(protocol: ProtocolCounters): {
  framesComplete: number;
  framesRecovered: number;
  framesDropped: number;
  framesLate: number;
} {
  if (protocol.format === "v1") {
    const { framesComplete, framesRecovered, framesDropped, framesLate } = protocol;
    return { framesComplete, framesRecovered, framesDropped, framesLate };
  }
  if (protocol.format === "rtp") {
    const { framesComplete, framesDropped, framesLate } = protocol;
    return { framesComplete, framesRecovered: 0, framesDropped, framesLate };
  }
  return {
    framesComplete: protocol.framesComplete,
    framesRecovered: 0,
    framesDropped: protocol.framesDropped + protocol.framesDroppedForKernelLoss,
    framesLate: 0,
  };
}
