/**
 * Which streams the receiver takes. `first`: one stream at a time; another is
 * refused while the current one is live, and takes over once the current one
 * has been silent for `takeoverAfterMs` (a restarted sender has a new stream id).
 * `separate`: up to `maxStreams` streams at once, each recorded to its own file;
 * past that a new stream is refused, or takes the place of one that has been
 * silent for `takeoverAfterMs` (whose file is then finished). So a receiver that
 * records per stream never has more than `maxStreams` files open, whatever arrives.
 */
export type StreamPolicy = "first" | "separate";

/** Why a stream was refused: `first` has its one stream; `cap`: `separate` has `maxStreams` live ones. */
export type RefusalCause = "first" | "cap";

export type GateDecision =
  | { readonly kind: "accept"; readonly isNew: boolean; readonly replaces?: number }
  | { readonly kind: "refuse"; readonly isNew: boolean; readonly cause: RefusalCause; readonly current: number };

/** Every frame of a stream already taken (one object for all, not one a frame). */
const ACCEPT_KNOWN: GateDecision = { kind: "accept", isNew: false };

/** Refused stream ids remembered (so each is counted once); past it the memory starts over. */
const REMEMBERED_REFUSALS = 1024;

export class StreamGate {
  readonly #lastSeen = new Map<number, number>();
  readonly #refused = new Set<number>();

  constructor(
    private readonly policy: StreamPolicy,
    private readonly takeoverAfterMs: number,
    /** With `separate`: streams taken at once. */
    private readonly maxStreams = Number.POSITIVE_INFINITY,
  ) {}

  decide(streamId: number, now: number): GateDecision {
    if (this.#lastSeen.has(streamId)) {
      this.#lastSeen.set(streamId, now);
      return ACCEPT_KNOWN;
    }
    const limit = this.policy === "first" ? 1 : this.maxStreams;
    let replaces: number | undefined;
    if (this.#lastSeen.size >= limit) {
      // The stream silent longest, if it has been silent long enough to give up its place.
      let silent: [number, number] | undefined;
      for (const entry of this.#lastSeen) if (silent === undefined || entry[1] < silent[1]) silent = entry;
      if (silent === undefined || now - silent[1] < this.takeoverAfterMs) return this.#refuse(streamId, silent?.[0]);
      replaces = silent[0];
      this.#lastSeen.delete(replaces);
    }
    this.#lastSeen.set(streamId, now);
    this.#refused.delete(streamId);
    return replaces === undefined ? { kind: "accept", isNew: true } : { kind: "accept", isNew: true, replaces };
  }

  /** Streams taken now (live or silent, not yet replaced). */
  get streams(): number {
    return this.#lastSeen.size;
  }

  #refuse(streamId: number, current: number | undefined): GateDecision {
    const isNew = !this.#refused.has(streamId);
    if (isNew) {
      if (this.#refused.size >= REMEMBERED_REFUSALS) this.#refused.clear();
      this.#refused.add(streamId);
    }
    return { kind: "refuse", isNew, cause: this.policy === "first" ? "first" : "cap", current: current ?? 0 };
  }
}
