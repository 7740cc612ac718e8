import { describe, expect, it } from "vitest";
import { slope } from "./slope.js";

describe("slope: the cost of one more unit and what is paid once, from runs of two lengths", () => {
  it("splits a receiver's CPU into ms a frame and its start", () => {
    // A start of 0.2 s and 1.5 ms a frame: 0.575 s for 250 frames, 1.325 s for 750.
    const result = slope({ units: 250, costs: [0.575] }, { units: 750, costs: [1.325] });
    expect(result.perUnit).toBeCloseTo(0.0015, 12);
    expect(result.fixed).toBeCloseTo(0.2, 12);
  });

  it("takes the median of each length's runs, so one run slowed by others' work moves neither figure", () => {
    const result = slope({ units: 250, costs: [0.9, 0.575, 0.57] }, { units: 750, costs: [1.32, 1.325, 3.1] });
    expect(result.perUnit).toBeCloseTo((1.325 - 0.575) / 500, 12);
    expect(result.fixed).toBeCloseTo(0.575 - ((1.325 - 0.575) / 500) * 250, 12);
  });

  it("averages the middle two of an even number of runs", () => {
    const result = slope({ units: 100, costs: [0.3, 0.5] }, { units: 400, costs: [1.0, 1.4, 1.2, 1.1] });
    expect(result.perUnit).toBeCloseTo((1.15 - 0.4) / 300, 12);
  });

  it("leaves out runs that gave no figure (a failed run: GNU time wrote nothing)", () => {
    const result = slope({ units: 250, costs: [undefined, 0.575] }, { units: 750, costs: [1.325, undefined] });
    expect(result.perUnit).toBeCloseTo(0.0015, 12);
    expect(result.fixed).toBeCloseTo(0.2, 12);
  });

  it("gives a negative start when the short runs cost less than the line says: reported, not hidden", () => {
    const result = slope({ units: 250, costs: [0.1] }, { units: 750, costs: [1.1] });
    expect(result.perUnit).toBeCloseTo(0.002, 12);
    expect(result.fixed).toBeCloseTo(-0.4, 12);
  });

  it.each([
    ["no short run gave a figure", { units: 250, costs: [undefined] }, { units: 750, costs: [1.3] }],
    ["no long run at all", { units: 250, costs: [0.5] }, { units: 750, costs: [] }],
    ["the lengths are equal", { units: 250, costs: [0.5] }, { units: 250, costs: [0.6] }],
    ["the long length is shorter", { units: 750, costs: [1.3] }, { units: 250, costs: [0.5] }],
  ])("has no figures when %s", (_name, short, long) => {
    expect(slope(short, long)).toEqual({ perUnit: undefined, fixed: undefined });
  });
});
