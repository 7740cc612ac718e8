/**
 * A bound IPv4 UDP socket read in batches by the package's addon (native/datagram_reader.c): recvmmsg into one
 * reused ring and one call per batch, instead of Node's dgram buffer, copy and event per datagram. For the
 * receiver's ingest thread; the socket itself (binding, options, membership, sending) stays the caller's.
 */
import type { Socket } from "node:dgram";
import { jpegAddon, type NativeDatagramReader } from "../codec/jpeg-addon.js";

export interface DatagramReaderOptions {
  /** Datagrams read per recvmmsg (the ring's slots). Default 32. */
  readonly slots?: number;
  /** Bytes a slot holds; a longer datagram is counted as truncated and dropped. Default 65,536 (every UDP/IPv4 datagram). */
  readonly slotBytes?: number;
  /** Batches read per wake-up at most, before the thread's timers and messages get their turn. Default 4. */
  readonly roundsPerWake?: number;
}

export interface DatagramReaderCounters {
  readonly datagrams: number;
  /** Longer than a slot: dropped (their `lengths` entry is -1). */
  readonly truncated: number;
  /** recvmmsg or poll errors (a pending ICMP error, say), counted, never thrown. */
  readonly errors: number;
  readonly batches: number;
  readonly wakeups: number;
}

export interface DatagramReader {
  readonly slots: number;
  readonly slotBytes: number;
  /**
   * Datagram `i` of the batch just read: a view of the ring, valid only during `onBatch` (the next batch
   * overwrites it), or undefined when it was truncated (counted).
   */
  datagram(i: number): Uint8Array | undefined;
  /** The IPv4 source address of datagram `i` (host order, 0xc0a80001 = 192.168.0.1) and its port. */
  readonly addresses: Uint32Array;
  readonly ports: Uint32Array;
  counters(): DatagramReaderCounters;
  /** Stops reading and closes the reader's own descriptor (the socket's stays open). Idempotent. */
  close(): void;
}

/**
 * Starts reading socket `fd` (a dup of it: close the socket whenever) on this thread's event loop: `onBatch(count)`
 * runs once per batch of `count` datagrams. Throws Error("DATAGRAM_READER: ...") where it cannot run (not Linux,
 * a bad descriptor), and whatever loading the addon throws.
 */
export function openDatagramReader(
  fd: number,
  onBatch: (count: number) => void,
  options: DatagramReaderOptions = {},
): DatagramReader {
  const slots = options.slots ?? 32;
  const slotBytes = options.slotBytes ?? 65_536;
  const native = jpegAddon().openDatagramReader(fd, slots, slotBytes, options.roundsPerWake ?? 4, onBatch);
  return wrap(native, slots, slotBytes);
}

function wrap(native: NativeDatagramReader, slots: number, slotBytes: number): DatagramReader {
  const { ring, meta } = native;
  const lengths = new Int32Array(meta, 0, slots);
  const addresses = new Uint32Array(meta, 4 * slots, slots);
  const ports = new Uint32Array(meta, 8 * slots, slots);
  const counters = new Float64Array(meta, Math.ceil((12 * slots) / 8) * 8, 5);
  return {
    slots,
    slotBytes,
    datagram(i) {
      const length = lengths[i]!;
      return length < 0 ? undefined : new Uint8Array(ring, i * slotBytes, length);
    },
    addresses,
    ports,
    counters: () => ({
      datagrams: counters[0]!,
      truncated: counters[1]!,
      errors: counters[2]!,
      batches: counters[3]!,
      wakeups: counters[4]!,
    }),
    close: () => native.close(),
  };
}

/** What this module needs of Node's internal UDP handle (lib/dgram.js's `state.handle`, a UDPWrap). */
interface UdpHandle {
  readonly fd: number;
  recvStop(): number;
}

/**
 * Reads a bound dgram socket with `openDatagramReader` and stops Node's own reading on it, so that each datagram
 * is read once, by the ring. The socket stays usable for everything else (addresses, buffer sizes, membership,
 * `send`, `close`); it emits no more "message" events. Node offers no public way to stop reading, so this takes the
 * handle from the socket's internal state (a symbol described "state symbol", Node 12 to 24 at least) and calls its
 * `recvStop()`; if Node changes that, it throws Error("DATAGRAM_READER: ...") before changing anything (the
 * caller then reads with dgram), and datagram-reader.slow.test.ts fails.
 */
export function readDgramSocketNatively(
  socket: Socket,
  onBatch: (count: number) => void,
  options: DatagramReaderOptions = {},
): DatagramReader {
  const symbol = Object.getOwnPropertySymbols(socket).find((s) => s.description === "state symbol");
  const state = symbol === undefined ? undefined : (socket as unknown as Record<symbol, { handle?: unknown }>)[symbol];
  const handle = state?.handle as Partial<UdpHandle> | undefined;
  if (typeof handle?.recvStop !== "function" || typeof handle.fd !== "number" || handle.fd < 0)
    throw new Error(
      `DATAGRAM_READER: this Node (${process.version}) has no dgram handle with fd and recvStop() where lib/dgram.js kept it`,
    );
  const reader = openDatagramReader(handle.fd, onBatch, options);
  const status = handle.recvStop();
  if (status !== 0) {
    reader.close();
    throw new Error(`DATAGRAM_READER: the dgram handle's recvStop() returned ${status}`);
  }
  return reader;
}
