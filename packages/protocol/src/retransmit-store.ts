import { HEADER_BYTES, looksLikeV1, Offset } from "./header.js";
import type { Nack } from "./nack.js";
import { looksLikeRepair } from "./window-fec.js";

/**
 * The sender's half of retransmission on request: the datagrams it sent, kept for the latency
 * budget (and within a byte bound), and a rate limit on what it sends again. Synchronous, no
 * sockets or timers: the app tells it what went out (`sent`) and hands it each verified NACK
 * (`request`), and sends the datagrams it returns, as they are (the same bytes, tag and
 * ciphertext: a retransmission is indistinguishable from the original, so it needs no new nonce).
 *
 * The rate limit is a credit: every byte sent earns `maxShare` of a byte of retransmission, and
 * the credit never exceeds `maxShare` of the bytes held (or of 256 KiB). Whatever NACKs arrive (forged ones
 * included, if they carry a valid tag, or where there is no key), the sender retransmits at most
 * `maxShare` of the stream plus that one window's credit: it can never be made an amplifier.
 */
export interface RetransmitStoreOptions {
  /** Datagrams older than this are forgotten. */
  readonly latencyMs: number;
  /** Bytes held at most; past it the oldest frames go. Default 32 MiB. */
  readonly maxBytes?: number;
  /** Retransmitted bytes at most per byte sent, 0..1. Default 0.25. */
  readonly maxShare?: number;
}

export interface RetransmitCounters {
  /** NACKs handed to `request`. */
  nacksReceived: number;
  /** Chunks asked for (a whole-frame entry counts the chunks held of it). */
  datagramsRequested: number;
  /** Datagrams sent again. */
  datagramsRetransmitted: number;
  bytesRetransmitted: number;
  /** Asked for, but no longer (or never) held: past the latency budget, or unknown. */
  datagramsUnavailable: number;
  /** Held, but over the rate limit: not sent. */
  datagramsRateLimited: number;
}

export interface RetransmitStore {
  /** A datagram that went out (v1 sources are kept; repairs and others are ignored). */
  sent(datagram: Uint8Array, nowMs: number): void;
  /** The datagrams to send again for a verified NACK, within the rate limit. */
  request(nack: Pick<Nack, "streamId" | "entries">, nowMs: number): Uint8Array[];
  /** Bytes held now. */
  readonly heldBytes: number;
  readonly counters: Readonly<RetransmitCounters>;
}

export const DEFAULT_RETRANSMIT_MAX_BYTES = 32 * 1024 * 1024;
export const DEFAULT_RETRANSMIT_MAX_SHARE = 0.25;
/**
 * The credit saved up is at most `maxShare` of the bytes held, or of this much when less is held (a small JPEG
 * stream holds about 60 KB in 100 ms: a burst asked for twice would otherwise hit the limit).
 */
const CREDIT_FLOOR_BYTES = 256 * 1024;

interface HeldFrame {
  readonly key: string;
  readonly atMs: number;
  readonly chunks: Map<number, Uint8Array>;
  bytes: number;
  /** The highest chunk index held: a range is never walked past it (a NACK asking for 65,535 costs nothing). */
  maxIndex: number;
}

export function createRetransmitStore(options: RetransmitStoreOptions): RetransmitStore {
  const { latencyMs } = options;
  const maxBytes = options.maxBytes ?? DEFAULT_RETRANSMIT_MAX_BYTES;
  const maxShare = options.maxShare ?? DEFAULT_RETRANSMIT_MAX_SHARE;
  if (!(latencyMs > 0)) throw new RangeError(`latencyMs must be above 0, got ${String(latencyMs)}`);
  if (!(Number.isInteger(maxBytes) && maxBytes >= 1))
    throw new RangeError(`maxBytes must be a positive integer, got ${String(maxBytes)}`);
  if (!(maxShare >= 0 && maxShare <= 1)) throw new RangeError(`maxShare must be from 0 to 1, got ${String(maxShare)}`);
  // Insertion order is send order: the first entry is the oldest.
  const frames = new Map<string, HeldFrame>();
  let heldBytes = 0;
  let credit = 0;
  // The frame being sent: a frame's datagrams go out together, so its key is built once a frame, not per datagram.
  let current: HeldFrame | undefined;
  let currentStream = -1;
  let currentNumber = -1;
  const counters: RetransmitCounters = {
    nacksReceived: 0,
    datagramsRequested: 0,
    datagramsRetransmitted: 0,
    bytesRetransmitted: 0,
    datagramsUnavailable: 0,
    datagramsRateLimited: 0,
  };

  function evict(nowMs: number): void {
    for (const frame of frames.values()) {
      if (nowMs - frame.atMs <= latencyMs && heldBytes <= maxBytes) return;
      frames.delete(frame.key);
      heldBytes -= frame.bytes;
      if (frame === current) current = undefined;
    }
  }

  function take(datagram: Uint8Array, out: Uint8Array[]): void {
    if (datagram.length > credit) {
      counters.datagramsRateLimited++;
      return;
    }
    credit -= datagram.length;
    counters.datagramsRetransmitted++;
    counters.bytesRetransmitted += datagram.length;
    out.push(datagram);
  }

  return {
    sent(datagram, nowMs) {
      credit = Math.min(credit + maxShare * datagram.length, maxShare * Math.max(heldBytes, CREDIT_FLOOR_BYTES));
      if (datagram.length < HEADER_BYTES || !looksLikeV1(datagram) || looksLikeRepair(datagram)) return;
      const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.length);
      const streamId = view.getUint32(Offset.streamId);
      const frameNumber = view.getUint32(Offset.frameNumber);
      let frame = current;
      if (frame === undefined || streamId !== currentStream || frameNumber !== currentNumber) {
        const key = `${streamId}:${frameNumber}`;
        frame = frames.get(key);
        if (frame === undefined) {
          frame = { key, atMs: nowMs, chunks: new Map(), bytes: 0, maxIndex: 0 };
          frames.set(key, frame);
        }
        current = frame;
        currentStream = streamId;
        currentNumber = frameNumber;
      }
      const index = view.getUint16(Offset.chunkIndex);
      frame.maxIndex = Math.max(frame.maxIndex, index);
      const before = frame.chunks.get(index)?.length ?? 0;
      frame.chunks.set(index, datagram);
      frame.bytes += datagram.length - before;
      heldBytes += datagram.length - before;
      evict(nowMs);
    },

    request(nack, nowMs) {
      evict(nowMs);
      counters.nacksReceived++;
      const out: Uint8Array[] = [];
      for (const entry of nack.entries) {
        const frame = frames.get(`${nack.streamId}:${entry.frameNumber}`);
        if (frame === undefined) {
          // Counted once per entry: a forged range of 65,535 chunks must not inflate the counters.
          counters.datagramsRequested++;
          counters.datagramsUnavailable++;
          continue;
        }
        const last = Math.min(entry.firstChunk + entry.chunkCount - 1, frame.maxIndex);
        for (let i = entry.firstChunk; i <= last; i++) {
          counters.datagramsRequested++;
          const datagram = frame.chunks.get(i);
          if (datagram === undefined) counters.datagramsUnavailable++;
          else take(datagram, out);
        }
      }
      return out;
    },

    get heldBytes() {
      return heldBytes;
    },
    get counters() {
      return { ...counters };
    },
  };
}
