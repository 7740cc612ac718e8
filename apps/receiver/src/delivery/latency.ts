/**
 * Latency percentiles over a bounded window of the most recent samples, so a
 * long run neither grows memory nor hides a recent spike behind old data.
 */
export class LatencyWindow {
  readonly #samples: Float64Array;
  #count = 0;
  #next = 0;

  constructor(capacity = 4096) {
    this.#samples = new Float64Array(capacity);
  }

  add(ms: number): void {
    this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % this.#samples.length;
    this.#count = Math.min(this.#count + 1, this.#samples.length);
  }

  get count(): number {
    return this.#count;
  }

  /** The q-quantile (0..1) by nearest rank, or undefined with no samples. */
  percentile(q: number): number | undefined {
    if (this.#count === 0) return undefined;
    const sorted = this.#samples.slice(0, this.#count).sort();
    const rank = Math.min(this.#count - 1, Math.max(0, Math.ceil(q * this.#count) - 1));
    return sorted[rank];
  }
}
