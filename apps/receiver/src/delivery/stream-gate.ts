/**
 * Which streams the receiver takes. `first`: one stream at a time; another is
 * refused while the current one is live, and takes over once the current one
 * has been silent for `takeoverAfterMs` (a restarted sender has a new stream id).
 * `separate`: every stream is taken, each recorded to its own file.
 */
export type StreamPolicy = "first" | "separate";

export type GateDecision =
  | { readonly kind: "accept"; readonly isNew: boolean; readonly replaces?: number }
  | { readonly kind: "refuse"; readonly isNew: boolean; readonly current: number };

export class StreamGate {
  readonly #lastSeen = new Map<number, number>();
  #current: number | undefined;
  readonly #refused = new Set<number>();

  constructor(
    private readonly policy: StreamPolicy,
    private readonly takeoverAfterMs: number,
  ) {}

  decide(streamId: number, now: number): GateDecision {
    if (this.policy === "separate") {
      const isNew = !this.#lastSeen.has(streamId);
      this.#lastSeen.set(streamId, now);
      return { kind: "accept", isNew };
    }
    if (this.#current === streamId) {
      this.#lastSeen.set(streamId, now);
      return { kind: "accept", isNew: false };
    }
    const current = this.#current;
    const currentSeen = current === undefined ? undefined : this.#lastSeen.get(current);
    if (current === undefined || currentSeen === undefined || now - currentSeen >= this.takeoverAfterMs) {
      this.#current = streamId;
      this.#lastSeen.clear();
      this.#lastSeen.set(streamId, now);
      this.#refused.delete(streamId);
      return current === undefined
        ? { kind: "accept", isNew: true }
        : { kind: "accept", isNew: true, replaces: current };
    }
    const isNew = !this.#refused.has(streamId);
    if (isNew) {
      if (this.#refused.size >= 1024) this.#refused.clear();
      this.#refused.add(streamId);
    }
    return { kind: "refuse", isNew, current };
  }
}
