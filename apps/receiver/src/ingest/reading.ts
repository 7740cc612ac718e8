/**
 * Who reads the ingest's socket: the native batch reader of @udpcam/video (recvmmsg into one reused ring, one call
 * per batch), or Node's dgram where that cannot run; and the source endpoints the native path hands the
 * reassembler, made once per endpoint.
 */
import type { Socket } from "node:dgram";
import { readDgramSocketNatively, type DatagramReader } from "@udpcam/video/datagram-reader";
import type { Endpoint } from "./frame-assembler.js";

/**
 * The native reader's ring: datagrams read per recvmmsg, each slot one whole UDP/IPv4 datagram (2 MiB in all),
 * and batches read per wake-up before the thread's timers and messages get their turn (128 datagrams).
 */
const RING_SLOTS = 32;
const SLOT_BYTES = 65_536;
const ROUNDS_PER_WAKE = 4;
/** Source endpoints whose address strings the native path keeps (a flood of spoofed sources only refills it). */
const MAX_CACHED_SOURCES = 256;

/** Who reads the socket: the native reader (batches into its ring), or Node's dgram where it cannot run. */
export interface Reading {
  readonly reader: DatagramReader | undefined;
  /** For the start-up log: "native (recvmmsg, 32 x 64 KiB)", or "dgram (...why)". */
  readonly description: string;
}

export function startReading(socket: Socket, onBatch: (count: number) => void, mode: "native" | "dgram"): Reading {
  if (mode === "dgram") return { reader: undefined, description: "dgram (asked for)" };
  try {
    const reader = readDgramSocketNatively(socket, onBatch, {
      slots: RING_SLOTS,
      slotBytes: SLOT_BYTES,
      roundsPerWake: ROUNDS_PER_WAKE,
    });
    return { reader, description: `native (recvmmsg, ${RING_SLOTS} x ${SLOT_BYTES / 1024} KiB)` };
  } catch (error) {
    return { reader: undefined, description: `dgram (the native reader cannot run: ${(error as Error).message})` };
  }
}

/** An IPv4 address in host order as text. */
export function ipv4(address: number): string {
  return `${address >>> 24}.${(address >>> 16) & 0xff}.${(address >>> 8) & 0xff}.${address & 0xff}`;
}

/**
 * The address string and `{address, port}` the reassembler takes per datagram, made once per source endpoint
 * (key: address * 65536 + port), not per datagram.
 */
export class SourceCache {
  readonly #sources = new Map<number, Endpoint>();
  #lastKey = -1;
  #last: Endpoint = { address: "", port: 0 };

  /** Endpoints held now: at most MAX_CACHED_SOURCES. */
  get size(): number {
    return this.#sources.size;
  }

  get(address: number, port: number): Endpoint {
    const key = address * 65_536 + port;
    if (key === this.#lastKey) return this.#last;
    let source = this.#sources.get(key);
    if (source === undefined) {
      if (this.#sources.size >= MAX_CACHED_SOURCES) this.#sources.clear();
      source = { address: ipv4(address), port };
      this.#sources.set(key, source);
    }
    this.#lastKey = key;
    this.#last = source;
    return source;
  }
}
