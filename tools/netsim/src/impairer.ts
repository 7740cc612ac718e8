import { DEFAULT_MAX_DATAGRAM_BYTES } from "@udpcam/protocol";
import { IPV4_HEADER_BYTES, UDP_HEADER_BYTES, countFragments, fragmentPayloadBytes } from "./fragments.js";
import { type ImpairmentOptions, badToGood } from "./options.js";
import { type Random, createRandom, deriveSeed } from "./random.js";

/** Why a datagram goes out: as it came, as a second copy, late on purpose, or injected garbage. */
export type EmissionKind = "forward" | "duplicate" | "reordered" | "garbage-random" | "garbage-mutated";

/** One datagram to send, and when. `datagram` may be a view of the datagram pushed; never mutated. */
export interface Emission {
  readonly datagram: Uint8Array;
  readonly sendAtMs: number;
  readonly kind: EmissionKind;
}

/** What the processor has done so far. Plain data; a fresh object on each call to `stats()`. */
export interface ImpairmentStats {
  readonly datagramsIn: number;
  readonly bytesIn: number;
  readonly fragmentsIn: number;
  readonly fragmentsLost: number;
  /** Datagrams lost because one of their fragments was. */
  readonly dropped: number;
  /** Datagrams dropped because the rate-limited link's queue was full (`queueMs`). */
  readonly queueDropped: number;
  /** Datagrams lost to the outage (`outageMs`), not counted in `dropped`. */
  readonly outageDropped: number;
  readonly reordered: number;
  /** Second copies made (each also counts as a datagram emitted). */
  readonly duplicated: number;
  readonly truncated: number;
  readonly garbageInjected: number;
  readonly garbageRandom: number;
  readonly garbageMutated: number;
  /** Datagrams handed out in emissions so far, garbage and copies included. */
  readonly emitted: number;
  readonly bytesEmitted: number;
  /** Datagrams (copies included) held back for reordering right now. */
  readonly held: number;
}

/** Garbage datagrams made of random bytes are 1 to this many bytes long: one full 1500-MTU packet. */
export const MAX_GARBAGE_BYTES = DEFAULT_MAX_DATAGRAM_BYTES;
/** A mutated copy has 1 to this many bytes changed. */
export const MAX_MUTATED_BYTES = 4;

/** Random streams, one per decision, so that switching one impairment on does not move another's choices. */
const enum Stream {
  Loss,
  Truncate,
  Duplicate,
  Reorder,
  Delay,
  Garbage,
  /** Last, so that the streams before it keep the seeds they had before it existed. */
  LossGood,
}

interface Held {
  readonly datagram: Uint8Array;
  readonly copies: number;
  readonly releaseAtMs: number;
  remaining: number;
}

/**
 * The impairment logic, with no sockets and no timers: `push(datagram, nowMs)` returns what
 * to send and when; `poll(nowMs)` releases held datagrams whose time has come. Deterministic
 * for a given seed, options and sequence of calls.
 *
 * Per datagram, in order:
 *   1. garbage: maybe inject a random datagram or a mutated copy of this one (it skips 2-5);
 *   2. loss: each of its IP fragments may be lost (independently, or in bursts: a Gilbert-Elliott
 *      chain whose bad state loses every fragment and good state `lossGood` of them), and if any
 *      is, the datagram is;
 *   3. truncate: maybe cut it to a random shorter length (a view, not a copy);
 *   4. duplicate: maybe send it twice;
 *   5. reorder: maybe hold it (and its copy) until `reorderGap` later datagrams have passed,
 *      or `reorderMaxMs`;
 *   6. link: the rate limit (serialisation behind earlier datagrams, tail drop past
 *      `queueMs`), then the delay and jitter.
 *
 * The array returned by `push`, `poll` and `flush` is reused by the next call: read it first.
 */
export class Impairer {
  readonly options: ImpairmentOptions;
  readonly #out: Emission[] = [];
  readonly #held: Held[] = [];
  readonly #random: readonly Random[];
  readonly #fragmentPayload: number;
  // Gilbert model: per-fragment chance of entering and of leaving a loss burst.
  readonly #enterBurst: number;
  readonly #leaveBurst: number;
  #inBurst = false;
  #linkFreeAtMs = Number.NEGATIVE_INFINITY;
  #firstAtMs: number | undefined;
  #heldCopies = 0;
  #counts = {
    datagramsIn: 0,
    bytesIn: 0,
    fragmentsIn: 0,
    fragmentsLost: 0,
    dropped: 0,
    queueDropped: 0,
    outageDropped: 0,
    reordered: 0,
    duplicated: 0,
    truncated: 0,
    garbageInjected: 0,
    garbageRandom: 0,
    garbageMutated: 0,
    emitted: 0,
    bytesEmitted: 0,
  };

  constructor(options: ImpairmentOptions) {
    this.options = options;
    this.#fragmentPayload = fragmentPayloadBytes(options.mtu);
    this.#random = [
      Stream.Loss,
      Stream.Truncate,
      Stream.Duplicate,
      Stream.Reorder,
      Stream.Delay,
      Stream.Garbage,
      Stream.LossGood,
    ].map((stream) => createRandom(deriveSeed(options.seed, stream)));
    const { loss, burst, lossGood } = options;
    if (burst >= 1) {
      // Gilbert-Elliott: the bad state loses every fragment, the good one `lossGood` of them; the chain
      // is in the bad state b = (loss - lossGood) / (1 - lossGood) of the time, so the mean loss is `loss`.
      this.#leaveBurst = loss >= 1 ? 0 : 1 / burst;
      this.#enterBurst = loss >= 1 ? 1 : Math.min(1, badToGood(loss, lossGood) / burst);
      // Start in the steady state, so that the first datagrams see the mean loss too.
      this.#inBurst = this.#rng(Stream.Loss).next() < (loss - lossGood) / (1 - lossGood);
    } else {
      this.#leaveBurst = 0;
      this.#enterBurst = 0;
    }
  }

  push(datagram: Uint8Array, nowMs: number): readonly Emission[] {
    const out = this.#out;
    out.length = 0;
    const counts = this.#counts;
    const length = datagram.length;
    counts.datagramsIn++;
    counts.bytesIn += length;
    const { garbage, loss, truncate, duplicate, reorder, outageMs, outageAtMs } = this.options;
    this.#firstAtMs ??= nowMs;
    if (outageMs > 0) {
      const since = nowMs - this.#firstAtMs;
      if (since >= outageAtMs && since < outageAtMs + outageMs) {
        counts.outageDropped++;
        return out;
      }
    }

    if (garbage > 0 && this.#rng(Stream.Garbage).next() < garbage) this.#injectGarbage(datagram, nowMs);

    const fragments = countFragments(length, this.options.mtu, this.#fragmentPayload);
    counts.fragmentsIn += fragments;
    if (loss > 0) {
      const lost = this.#loseFragments(fragments);
      if (lost > 0) {
        counts.fragmentsLost += lost;
        counts.dropped++;
        return out;
      }
    }

    let survivor = datagram;
    if (truncate > 0 && length > 0 && this.#rng(Stream.Truncate).next() < truncate) {
      survivor = datagram.subarray(0, this.#rng(Stream.Truncate).int(length));
      counts.truncated++;
    }
    let copies = 1;
    if (duplicate > 0 && this.#rng(Stream.Duplicate).next() < duplicate) {
      copies = 2;
      counts.duplicated++;
    }
    if (reorder > 0 && this.#rng(Stream.Reorder).next() < reorder) {
      this.#held.push({
        datagram: survivor,
        copies,
        releaseAtMs: nowMs + this.options.reorderMaxMs,
        remaining: this.options.reorderGap,
      });
      this.#heldCopies += copies;
      counts.reordered++;
      return out;
    }
    this.#link(survivor, nowMs, "forward");
    if (copies === 2) this.#link(survivor, nowMs, "duplicate");
    // This datagram has gone ahead of every held one.
    const held = this.#held;
    for (const entry of held) entry.remaining--;
    while (held.length > 0 && held[0]!.remaining <= 0) this.#release(nowMs);
    return out;
  }

  /** Releases held datagrams whose `reorderMaxMs` has passed. */
  poll(nowMs: number): readonly Emission[] {
    this.#out.length = 0;
    const held = this.#held;
    while (held.length > 0 && held[0]!.releaseAtMs <= nowMs) this.#release(nowMs);
    return this.#out;
  }

  /** Releases every held datagram now (at shutdown). */
  flush(nowMs: number): readonly Emission[] {
    this.#out.length = 0;
    while (this.#held.length > 0) this.#release(nowMs);
    return this.#out;
  }

  /** When `poll` next has something to release, if anything is held. */
  nextReleaseMs(): number | undefined {
    return this.#held[0]?.releaseAtMs;
  }

  stats(): ImpairmentStats {
    return { ...this.#counts, held: this.#heldCopies };
  }

  #rng(stream: Stream): Random {
    return this.#random[stream]!;
  }

  /** How many of `fragments` fragments are lost. Draws for every fragment, so streams stay aligned. */
  #loseFragments(fragments: number): number {
    const random = this.#rng(Stream.Loss);
    let lost = 0;
    if (this.options.burst >= 1) {
      const { lossGood } = this.options;
      const between = this.#rng(Stream.LossGood);
      for (let i = 0; i < fragments; i++) {
        const draw = random.next();
        this.#inBurst = this.#inBurst ? draw >= this.#leaveBurst : draw < this.#enterBurst;
        // Drawn for every fragment, in a burst or not, so that these losses do not depend on the chain's path.
        const lostBetween = lossGood > 0 && between.next() < lossGood;
        if (this.#inBurst || lostBetween) lost++;
      }
    } else {
      const loss = this.options.loss;
      for (let i = 0; i < fragments; i++) if (random.next() < loss) lost++;
    }
    return lost;
  }

  #release(nowMs: number): void {
    const entry = this.#held.shift();
    if (entry === undefined) return;
    this.#heldCopies -= entry.copies;
    this.#link(entry.datagram, nowMs, "reordered");
    if (entry.copies === 2) this.#link(entry.datagram, nowMs, "duplicate");
  }

  #injectGarbage(datagram: Uint8Array, nowMs: number): void {
    const random = this.#rng(Stream.Garbage);
    const counts = this.#counts;
    counts.garbageInjected++;
    if (datagram.length > 0 && random.next() < 0.5) {
      const copy = datagram.slice();
      const changes = 1 + random.int(Math.min(MAX_MUTATED_BYTES, copy.length));
      // Distinct positions, each XORed with a non-zero byte: exactly `changes` bytes differ.
      const start = random.int(copy.length);
      const stride = 1 + random.int(Math.max(1, Math.floor(copy.length / changes)));
      for (let i = 0; i < changes; i++) {
        const at = (start + i * stride) % copy.length;
        copy[at] = copy[at]! ^ (1 + random.int(255));
      }
      counts.garbageMutated++;
      this.#link(copy, nowMs, "garbage-mutated");
    } else {
      const bytes = new Uint8Array(1 + random.int(MAX_GARBAGE_BYTES));
      random.fill(bytes);
      counts.garbageRandom++;
      this.#link(bytes, nowMs, "garbage-random");
    }
  }

  /** The link: rate limit with a bounded queue, then delay and jitter. */
  #link(datagram: Uint8Array, nowMs: number, kind: EmissionKind): void {
    const { rateMbit, queueMs, delayMs, jitterMs } = this.options;
    const counts = this.#counts;
    let sendAtMs = nowMs;
    if (rateMbit > 0) {
      const startMs = Math.max(nowMs, this.#linkFreeAtMs);
      if (startMs - nowMs > queueMs) {
        counts.queueDropped++;
        return;
      }
      const fragments = countFragments(datagram.length, this.options.mtu, this.#fragmentPayload);
      const wireBits = (datagram.length + UDP_HEADER_BYTES + IPV4_HEADER_BYTES * fragments) * 8;
      this.#linkFreeAtMs = startMs + wireBits / (rateMbit * 1000);
      sendAtMs = this.#linkFreeAtMs;
    }
    if (jitterMs > 0) sendAtMs += Math.max(0, delayMs + (this.#rng(Stream.Delay).next() * 2 - 1) * jitterMs);
    else sendAtMs += delayMs;
    counts.emitted++;
    counts.bytesEmitted += datagram.length;
    this.#out.push({ datagram, sendAtMs, kind });
  }
}
