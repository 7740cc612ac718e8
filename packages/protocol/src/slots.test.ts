import { describe, expect, it } from "vitest";
import {
  chunkCount,
  chunkLength,
  chunkOffset,
  fecLayout,
  groupDataCount,
  layoutProblem,
  parityCount,
} from "./slots.js";

describe("slot math", () => {
  it.each([
    // frameBytes, chunkBytes, count, last length
    [921_600, 1428, 646, 921_600 - 645 * 1428],
    [921_600, 46_080, 20, 46_080],
    [1, 1428, 1, 1],
    [1428, 1428, 1, 1428],
    [1429, 1428, 2, 1],
    [40_000, 1428, 29, 40_000 - 28 * 1428],
  ])("N=%i P=%i: %i chunks, last %i bytes", (n, p, count, last) => {
    expect(chunkCount(n, p)).toBe(count);
    expect(chunkLength(count - 1, n, p)).toBe(last);
    expect(chunkLength(0, n, p)).toBe(Math.min(n, p));
    expect(chunkOffset(count - 1, p) + last).toBe(n);
  });

  it("covers every byte exactly once", () => {
    const n = 10_007;
    const p = 97;
    const seen = new Uint8Array(n);
    for (let i = 0; i < chunkCount(n, p); i++)
      for (let b = 0; b < chunkLength(i, n, p); b++) seen[chunkOffset(i, p) + b]!++;
    expect(seen.every((x) => x === 1)).toBe(true);
  });

  it.each([
    // data chunks, overhead, group cap, groups, parity per group
    [29, 0.1, 48, 1, 3],
    [30, 0.1, 48, 1, 3],
    [646, 0.1, 48, 14, 5],
    [10, 0.1, 48, 1, 1],
    [1, 0.1, 48, 1, 1],
    [100, 0, 48, 1, 0],
    [100, 1, 48, 3, 34],
    [128, 1, 128, 1, 128],
  ])("fecLayout(%i, %f, %i) = %i groups x %i parity", (k, overhead, cap, groups, m) => {
    const layout = fecLayout(k, overhead, cap);
    expect(layout).toEqual({ groups, parityPerGroup: m });
    expect(layoutProblem(k, layout)).toBeUndefined();
    expect(parityCount(layout)).toBeGreaterThanOrEqual(Math.ceil(k * overhead - 1e-9));
  });

  it("interleaves groups that differ by at most one chunk", () => {
    expect([0, 1, 2, 3].map((g) => groupDataCount(g, 10, 4))).toEqual([3, 3, 2, 2]);
    expect([0, 1, 2].map((g) => groupDataCount(g, 9, 3))).toEqual([3, 3, 3]);
  });

  it.each([
    [10, { groups: 0, parityPerGroup: 1 }, "FEC groups 0"],
    [10, { groups: 11, parityPerGroup: 1 }, "FEC groups 11"],
    [10, { groups: 2, parityPerGroup: 0 }, "must be 1 when there is no parity"],
    [300, { groups: 2, parityPerGroup: 1 }, "groups of 150 data chunks"],
    [10, { groups: 1, parityPerGroup: 129 }, "parity per group 129"],
    [65_000, { groups: 1000, parityPerGroup: 1 }, "more than 65535"],
  ])("rejects K=%i with %o", (k, layout, message) => {
    expect(layoutProblem(k, layout)).toContain(message);
  });
});
