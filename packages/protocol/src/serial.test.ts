import { describe, expect, it } from "vitest";
import { serialAdd, serialCompare, serialDiff, serialNewer, serialOlderOrEqual } from "./serial.js";

describe("serial arithmetic (u32 frame numbers)", () => {
  it.each([
    // a, b, a - b as seen across the wrap
    [1, 0, 1],
    [0, 1, -1],
    [0, 0xffff_ffff, 1],
    [0xffff_ffff, 0, -1],
    [5, 0xffff_fffb, 10],
    [0x7fff_ffff, 0, 0x7fff_ffff],
    [0x8000_0000, 0, -0x8000_0000],
    [0, 0x8000_0000, -0x8000_0000],
  ])("serialDiff(%i, %i) = %i", (a, b, diff) => {
    expect(serialDiff(a, b)).toBe(diff);
  });

  it("orders frames across the rollover", () => {
    expect(serialNewer(0, 0xffff_ffff)).toBe(true);
    expect(serialNewer(0xffff_ffff, 0)).toBe(false);
    expect(serialNewer(3, 3)).toBe(false);
    expect(serialOlderOrEqual(3, 3)).toBe(true);
    expect(serialOlderOrEqual(0xffff_fff0, 2)).toBe(true);
    expect(serialOlderOrEqual(2, 0xffff_fff0)).toBe(false);
  });

  it("treats numbers exactly 2^31 apart as older both ways, so neither replaces the other", () => {
    expect(serialNewer(0x8000_0000, 0)).toBe(false);
    expect(serialNewer(0, 0x8000_0000)).toBe(false);
  });

  it("adds with wrap", () => {
    expect(serialAdd(0xffff_ffff, 1)).toBe(0);
    expect(serialAdd(0xffff_fffe, 5)).toBe(3);
    expect(serialAdd(2, -5)).toBe(0xffff_fffd);
  });

  it("sorts a window that straddles the wrap oldest first", () => {
    const window = [2, 0xffff_fffe, 0, 0xffff_ffff, 1];
    expect(window.sort(serialCompare)).toEqual([0xffff_fffe, 0xffff_ffff, 0, 1, 2]);
  });
});
