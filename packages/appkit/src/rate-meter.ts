/** Rates over the last interval, from two snapshots of the counters. */
export class RateMeter {
  #frames = 0;
  #bytes = 0;
  #at: number;

  constructor(now: number) {
    this.#at = now;
  }

  sample(frames: number, bytes: number, now: number): { fps: number; mbps: number } {
    const seconds = Math.max((now - this.#at) / 1000, 1e-9);
    const rate = { fps: (frames - this.#frames) / seconds, mbps: ((bytes - this.#bytes) * 8) / seconds / 1e6 };
    this.#frames = frames;
    this.#bytes = bytes;
    this.#at = now;
    return rate;
  }
}
