/**
 * Lets a repeated warning through at most once per interval, and says how many
 * were held back meanwhile: a flood of forged streams must not become a flood
 * of log lines.
 */
export class LogThrottle {
  #lastAt: number | undefined;
  #held = 0;

  constructor(private readonly intervalMs: number) {}

  /** undefined: stay quiet. A number: log now, mentioning that many held back since the last line. */
  take(now: number): number | undefined {
    if (this.#lastAt !== undefined && now - this.#lastAt < this.intervalMs) {
      this.#held++;
      return undefined;
    }
    this.#lastAt = now;
    const held = this.#held;
    this.#held = 0;
    return held;
  }
}
