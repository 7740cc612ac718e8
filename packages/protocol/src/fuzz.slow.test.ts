import { describe, expect, it } from "vitest";
import { fuzzReassembler } from "./testing/fuzz.js";

describe("fuzz (big budget)", () => {
  it("1,000,000 real, mutated and random datagrams", () => {
    const started = performance.now();
    const { emitted, malformed } = fuzzReassembler(1_000_000, 2);
    expect(emitted).toBeGreaterThan(1000);
    expect(malformed).toBeGreaterThan(100_000);
    expect(performance.now() - started).toBeLessThan(60_000);
  }, 120_000);
});
