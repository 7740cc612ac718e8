/**
 * A small seeded pseudo-random generator (mulberry32): 32 bits of state, fast, and good
 * enough for choosing which packets to drop. Not for anything secret.
 *
 * Every impairment draws from its own stream, derived from the one seed, so the loss
 * pattern for seed 42 stays the same whether or not duplication is also switched on.
 */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). `n` must be a positive integer not above 2^32. */
  int(n: number): number;
  /** Fills `bytes` with random bytes. */
  fill(bytes: Uint8Array): void;
}

const TWO_POW_32 = 0x1_0000_0000;

/** The largest seed; seeds are unsigned 32-bit integers. */
export const MAX_SEED = 0xffff_ffff;

export function createRandom(seed: number): Random {
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new RangeError(`seed: must be an integer between 0 and ${MAX_SEED}, got ${seed}`);
  }
  let state = seed | 0;
  const nextUint32 = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    next: () => nextUint32() / TWO_POW_32,
    int: (n) => Math.floor((nextUint32() / TWO_POW_32) * n),
    fill: (bytes) => {
      let i = 0;
      for (; i + 4 <= bytes.length; i += 4) {
        const word = nextUint32();
        bytes[i] = word & 0xff;
        bytes[i + 1] = (word >>> 8) & 0xff;
        bytes[i + 2] = (word >>> 16) & 0xff;
        bytes[i + 3] = word >>> 24;
      }
      if (i < bytes.length) {
        let word = nextUint32();
        for (; i < bytes.length; i++, word >>>= 8) bytes[i] = word & 0xff;
      }
    },
  };
}

/**
 * The seed of sub-stream `stream` of `seed`: a murmur3-style finalizer over both, so
 * neighbouring seeds and streams give unrelated sequences.
 */
export function deriveSeed(seed: number, stream: number): number {
  let h = (seed ^ Math.imul(stream + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
