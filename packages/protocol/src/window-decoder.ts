import { gfDiv, gfMul, mulAdd } from "./gf256.js";
import { chunkLength } from "./slots.js";
import {
  FLAG_ENCRYPTED,
  FLAG_WINDOW,
  HEADER_BYTES,
  Offset,
  SALT_BYTES,
  WINDOW_SEQUENCE_BYTES,
  windowSequenceOffset,
} from "./header.js";
import { serialDiff } from "./serial.js";
import { MAX_WINDOW_SOURCES, windowCoefficient, type RepairDatagram } from "./window-fec.js";

/**
 * The receiving half of window FEC for one stream: the source datagrams seen (copies of their
 * wire bytes, the last `RETAINED` sequence numbers) and the repair equations not yet solved.
 * Synchronous and bounded: at most `RETAINED` sources and `MAX_EQUATIONS` equations, each at most
 * one repair symbol long, and at most `maxHeldBytes` in all (past it the oldest source goes, then
 * the oldest equation: `windowShed`). Sources it rebuilds are handed back as wire bytes, for the
 * caller to push through the same decode and authentication as any datagram.
 *
 * It is told only of sources that verified (and of repairs that did), and it remembers the salts
 * of the last `REMEMBERED_SALTS` encrypted sources: an encrypted repair is used only when its salt
 * is one of them (`knowsSalt`), so a key holder's repair of another run is not mixed into this one.
 *
 * Each repair, minus the sources already held, is an equation over the sources still missing in
 * its window. Equations are kept until they are solved or older than the latency budget; after
 * every change the coefficient matrix of all equations (a few rows by a few columns: no payload
 * bytes) is reduced, and each missing source that the reduction pins down is rebuilt with one
 * pass over the equations' bytes.
 */

/** Sources remembered per stream: twice the widest window, so a repair's window is always covered. */
const RETAINED = 2 * MAX_WINDOW_SOURCES;
/** Unsolved equations kept per stream (the oldest goes first). */
export const MAX_EQUATIONS = 48;
/** Salts of a stream's sources remembered: a sender changes salt only at a wrap or a discontinuity. */
const REMEMBERED_SALTS = 4;

interface Equation {
  /** Missing sources (sequence numbers) and their coefficients. */
  unknowns: number[];
  coefs: number[];
  /** The repair symbol minus every held source's share. */
  readonly rhs: Uint8Array;
  readonly atMs: number;
  /** The repair it came from, to know a repeat. */
  readonly windowEnd: number;
  readonly repairNumber: number;
}

export interface WindowCounters {
  /** Repair datagrams that verified and were used as an equation. */
  repairsReceived: number;
  /** Repair datagrams that covered nothing missing (or repeated one held, or ended too far behind the stream). */
  repairsUnneeded: number;
  /**
   * Repair datagrams that verified but match no window FEC state: for a stream no verified source has
   * started, or (flag E) with a salt none of the stream's sources has, as another run's repairs have.
   */
  repairsUnmatched: number;
  /** Repair datagrams whose window holds a source longer than their symbol: hostile or broken. */
  repairsInconsistent: number;
  /** Source datagrams rebuilt. */
  sourcesRecovered: number;
  /** Equations given up: past the latency budget, or pushed out by newer ones. */
  equationsExpired: number;
  /** Sources and equations let go early to keep a stream's window state within `maxHeldBytes`. */
  windowShed: number;
}

export interface WindowDecoder {
  /** A verified source datagram arrived (or was rebuilt): returns sources it let rebuild. */
  source(sequence: number, bytes: Uint8Array, nowMs: number): Uint8Array[];
  /** A verified repair datagram arrived: returns sources it let rebuild. */
  repair(repair: RepairDatagram, nowMs: number): Uint8Array[];
  /** Whether a source told of carried this salt (one of the last few distinct ones). */
  knowsSalt(salt: Uint8Array): boolean;
  /** Bytes held (sources and equations), for the memory bound. */
  readonly heldBytes: number;
}

/**
 * The length of the v1 datagram (flag W) at the start of a rebuilt symbol, from its own header,
 * or undefined when the header cannot describe one.
 */
export function sourceLength(symbol: Uint8Array): number | undefined {
  if (symbol.length < HEADER_BYTES + WINDOW_SEQUENCE_BYTES || (symbol[Offset.flags]! & FLAG_WINDOW) === 0)
    return undefined;
  const view = new DataView(symbol.buffer, symbol.byteOffset, symbol.length);
  const frameBytes = view.getUint32(Offset.frameBytes);
  const index = view.getUint16(Offset.chunkIndex);
  const count = view.getUint16(Offset.chunkCount);
  const chunkBytes = view.getUint16(Offset.chunkBytes);
  if (chunkBytes === 0 || frameBytes === 0) return undefined;
  const payload = index < count ? chunkLength(index, frameBytes, chunkBytes) : chunkBytes;
  if (payload < 0) return undefined;
  const start = windowSequenceOffset(symbol[Offset.flags]!) + WINDOW_SEQUENCE_BYTES;
  const length = start + payload + view.getUint8(Offset.tagBytes);
  return length <= symbol.length ? length : undefined;
}

export function createWindowDecoder(
  latencyMs: number,
  counters: WindowCounters,
  maxHeldBytes = Number.POSITIVE_INFINITY,
): WindowDecoder {
  const held: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(RETAINED);
  const heldSequence = new Float64Array(RETAINED).fill(-1);
  /** 1 where the held bytes are the decoder's own copy of a source that arrived (rebuilt ones are handed out). */
  const ownCopy = new Uint8Array(RETAINED);
  const equations: Equation[] = [];
  const salts: Uint8Array[] = [];
  let newest: number | undefined;
  let heldBytes = 0;

  function noteSalt(bytes: Uint8Array): void {
    if ((bytes[Offset.flags]! & FLAG_ENCRYPTED) === 0 || bytes.length < HEADER_BYTES + SALT_BYTES) return;
    const salt = bytes.subarray(HEADER_BYTES, HEADER_BYTES + SALT_BYTES);
    const at = salts.findIndex((s) => sameBytes(s, salt));
    if (at === 0) return;
    if (at > 0) salts.splice(at, 1);
    salts.unshift(salt.slice());
    if (salts.length > REMEMBERED_SALTS) salts.pop();
  }

  /** The oldest held source other than `keep`, or undefined. */
  function oldestHeld(keep: number): number | undefined {
    if (newest === undefined) return undefined;
    for (let k = RETAINED - 1; k >= 0; k--) {
      const sequence = (newest - k) >>> 0;
      if (sequence !== keep && lookup(sequence) !== undefined) return sequence;
    }
    return undefined;
  }

  /** Within maxHeldBytes: the oldest sources go first (the least likely to be asked for), then the oldest equations. */
  function shed(keep: number | undefined): void {
    while (heldBytes > maxHeldBytes) {
      const sequence = oldestHeld(keep ?? -1);
      if (sequence !== undefined) {
        const slot = sequence % RETAINED;
        heldBytes -= held[slot]!.length;
        held[slot] = undefined;
        heldSequence[slot] = -1;
      } else if (equations.length > 0) dropEquation(0);
      else return;
      counters.windowShed++;
    }
  }

  function lookup(sequence: number): Uint8Array | undefined {
    const slot = sequence % RETAINED;
    return heldSequence[slot] === sequence ? held[slot] : undefined;
  }

  /**
   * A copy of a source that arrived, in the buffer of the source its slot held before when that
   * one was a copy too (never handed out) and is large enough: a stream's sources then allocate
   * nothing once the slots are full, instead of garbage that its thread's collector frees late.
   */
  function sourceCopy(sequence: number, bytes: Uint8Array): Uint8Array {
    const slot = sequence % RETAINED;
    const old = held[slot];
    const reusable = old !== undefined && ownCopy[slot] === 1 && old.buffer.byteLength >= bytes.length;
    const copy = reusable ? new Uint8Array(old.buffer, 0, bytes.length) : new Uint8Array(bytes.length);
    copy.set(bytes);
    return copy;
  }

  function store(sequence: number, bytes: Uint8Array, copied = true): void {
    const slot = sequence % RETAINED;
    heldBytes += bytes.length - (held[slot]?.length ?? 0);
    held[slot] = bytes;
    heldSequence[slot] = sequence;
    ownCopy[slot] = copied ? 1 : 0;
    if (newest === undefined || serialDiff(sequence, newest) > 0) newest = sequence;
  }

  function dropEquation(index: number): void {
    heldBytes -= equations[index]!.rhs.length;
    equations.splice(index, 1);
  }

  function expire(nowMs: number): void {
    for (let i = equations.length - 1; i >= 0; i--) {
      if (nowMs - equations[i]!.atMs > latencyMs) {
        dropEquation(i);
        counters.equationsExpired++;
      }
    }
  }

  /** Takes a held (or rebuilt) source out of every equation that still counts it missing. */
  function substitute(sequence: number, bytes: Uint8Array): void {
    for (let i = equations.length - 1; i >= 0; i--) {
      const eq = equations[i]!;
      const at = eq.unknowns.indexOf(sequence);
      if (at < 0) continue;
      if (bytes.length > eq.rhs.length) {
        // A source longer than the repair's symbol: the repair was not made from it.
        dropEquation(i);
        counters.repairsInconsistent++;
        continue;
      }
      mulAdd(eq.rhs, bytes, eq.coefs[at]!);
      eq.unknowns.splice(at, 1);
      eq.coefs.splice(at, 1);
      if (eq.unknowns.length === 0) dropEquation(i);
    }
  }

  /**
   * Gauss-Jordan on the coefficients of all equations (with the row operations recorded), then
   * every unknown whose row has no other unknown left is rebuilt from the equations' bytes.
   */
  function solve(out: Uint8Array[], nowMs: number): void {
    for (;;) {
      const rows = equations.length;
      if (rows === 0) return;
      const columns: number[] = [];
      for (const eq of equations) for (const u of eq.unknowns) if (!columns.includes(u)) columns.push(u);
      if (columns.length > RETAINED) return;
      const width = columns.length;
      const a = new Uint8Array(rows * width);
      const t = new Uint8Array(rows * rows);
      equations.forEach((eq, r) => {
        eq.unknowns.forEach((u, k) => (a[r * width + columns.indexOf(u)] = eq.coefs[k]!));
        t[r * rows + r] = 1;
      });
      const pivotOf: number[] = [];
      let rank = 0;
      for (let col = 0; col < width && rank < rows; col++) {
        let p = rank;
        while (p < rows && a[p * width + col] === 0) p++;
        if (p === rows) continue;
        if (p !== rank) {
          swap(a, p * width, rank * width, width);
          swap(t, p * rows, rank * rows, rows);
        }
        const inv = gfDiv(1, a[rank * width + col]!);
        scale(a, rank * width, width, inv);
        scale(t, rank * rows, rows, inv);
        for (let r = 0; r < rows; r++) {
          const f = r === rank ? 0 : a[r * width + col]!;
          if (f === 0) continue;
          addScaled(a, r * width, rank * width, width, f);
          addScaled(t, r * rows, rank * rows, rows, f);
        }
        pivotOf[rank] = col;
        rank++;
      }
      const solved: [number, Uint8Array][] = [];
      for (let r = 0; r < rank; r++) {
        let alone = true;
        for (let col = 0; col < width && alone; col++)
          if (col !== pivotOf[r] && a[r * width + col] !== 0) alone = false;
        if (!alone) continue;
        let length = 0;
        for (let i = 0; i < rows; i++) if (t[r * rows + i] !== 0) length = Math.max(length, equations[i]!.rhs.length);
        const symbol = new Uint8Array(length);
        for (let i = 0; i < rows; i++) mulAdd(symbol, equations[i]!.rhs, t[r * rows + i]!);
        solved.push([columns[pivotOf[r]!]!, symbol]);
      }
      if (solved.length === 0) return;
      for (const [sequence, symbol] of solved) {
        const length = sourceLength(symbol);
        if (length === undefined) {
          // Not a datagram: a repair lied. The equations that led here cannot be trusted.
          counters.repairsInconsistent++;
          for (let i = equations.length - 1; i >= 0; i--)
            if (equations[i]!.unknowns.includes(sequence)) dropEquation(i);
          continue;
        }
        const bytes = symbol.slice(0, length);
        substitute(sequence, bytes);
        store(sequence, bytes, false);
        shed(sequence);
        counters.sourcesRecovered++;
        out.push(bytes);
      }
      expire(nowMs);
    }
  }

  return {
    source(sequence, bytes, nowMs) {
      noteSalt(bytes);
      if (lookup(sequence) !== undefined) return [];
      if (newest !== undefined && serialDiff(sequence, newest) <= -RETAINED) return [];
      const copy = sourceCopy(sequence, bytes);
      store(sequence, copy);
      shed(sequence);
      const out: Uint8Array[] = [];
      if (equations.length === 0) return out;
      expire(nowMs);
      substitute(sequence, copy);
      solve(out, nowMs);
      return out;
    },

    repair(repair, nowMs) {
      expire(nowMs);
      // Behind every source still remembered, or a repeat of a repair held: nothing to learn from it.
      if (
        (newest !== undefined && serialDiff(repair.windowEnd, newest) <= -RETAINED) ||
        equations.some((eq) => eq.windowEnd === repair.windowEnd && eq.repairNumber === repair.repairNumber)
      ) {
        counters.repairsUnneeded++;
        return [];
      }
      const rhs = new Uint8Array(repair.symbol);
      const unknowns: number[] = [];
      const coefs: number[] = [];
      for (let k = repair.windowLength - 1; k >= 0; k--) {
        const sequence = (repair.windowEnd - k) >>> 0;
        const coef = windowCoefficient(repair.repairNumber, sequence);
        const bytes = lookup(sequence);
        if (bytes === undefined) {
          unknowns.push(sequence);
          coefs.push(coef);
        } else if (bytes.length > rhs.length) {
          counters.repairsInconsistent++;
          return [];
        } else mulAdd(rhs, bytes, coef);
      }
      if (unknowns.length === 0) {
        counters.repairsUnneeded++;
        return [];
      }
      counters.repairsReceived++;
      if (equations.length >= MAX_EQUATIONS) {
        dropEquation(0);
        counters.equationsExpired++;
      }
      equations.push({
        unknowns,
        coefs,
        rhs,
        atMs: nowMs,
        windowEnd: repair.windowEnd,
        repairNumber: repair.repairNumber,
      });
      heldBytes += rhs.length;
      shed(undefined);
      if (equations.length === 0) return [];
      const out: Uint8Array[] = [];
      solve(out, nowMs);
      return out;
    },

    knowsSalt(salt) {
      return salts.some((s) => sameBytes(s, salt));
    },

    get heldBytes() {
      return heldBytes;
    },
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function swap(m: Uint8Array, i: number, j: number, n: number): void {
  for (let k = 0; k < n; k++) {
    const x = m[i + k]!;
    m[i + k] = m[j + k]!;
    m[j + k] = x;
  }
}

function scale(m: Uint8Array, at: number, n: number, c: number): void {
  for (let k = 0; k < n; k++) m[at + k] = gfMul(m[at + k]!, c);
}

function addScaled(m: Uint8Array, dst: number, src: number, n: number, c: number): void {
  for (let k = 0; k < n; k++) m[dst + k] = m[dst + k]! ^ gfMul(m[src + k]!, c);
}
