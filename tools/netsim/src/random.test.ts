import { describe, expect, it } from "vitest";
import { MAX_SEED, createRandom, deriveSeed } from "./random.js";

const draws = (seed: number, n: number): number[] => {
  const random = createRandom(seed);
  return Array.from({ length: n }, () => random.next());
};

describe("createRandom", () => {
  it("repeats itself for the same seed and differs for another", () => {
    expect(draws(42, 100)).toEqual(draws(42, 100));
    expect(draws(42, 100)).not.toEqual(draws(43, 100));
  });

  it("draws floats in [0, 1) with a mean near 1/2 and integers in [0, n)", () => {
    const values = draws(7, 100_000);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    expect(values.reduce((sum, value) => sum + value, 0) / values.length).toBeCloseTo(0.5, 2);
    const random = createRandom(7);
    const seen = new Set(Array.from({ length: 1000 }, () => random.int(6)));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("fills every byte, including a tail shorter than a word", () => {
    const bytes = new Uint8Array(4099);
    createRandom(1).fill(bytes);
    const again = new Uint8Array(4099);
    createRandom(1).fill(again);
    expect(again).toEqual(bytes);
    expect(bytes.subarray(4096).some((byte) => byte !== 0)).toBe(true);
    expect(new Set(bytes).size).toBe(256);
  });

  it.each([-1, 1.5, MAX_SEED + 1, Number.NaN])("rejects seed %d", (seed) => {
    expect(() => createRandom(seed)).toThrow(RangeError);
  });

  it("accepts the seed range's ends", () => {
    expect(() => createRandom(0)).not.toThrow();
    expect(() => createRandom(MAX_SEED)).not.toThrow();
  });
});

describe("deriveSeed", () => {
  it("gives different unsigned seeds for different streams and seeds", () => {
    const seeds = new Set<number>();
    for (let seed = 0; seed < 50; seed++)
      for (let stream = 0; stream < 6; stream++) seeds.add(deriveSeed(seed, stream));
    expect(seeds.size).toBe(300);
    for (const seed of seeds) expect(seed >>> 0).toBe(seed);
  });
});
