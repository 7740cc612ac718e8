import { describe, expect, it } from "vitest";
import { LatencyWindow } from "./latency.js";

describe("LatencyWindow", () => {
  it("gives nearest-rank percentiles", () => {
    const window = new LatencyWindow();
    for (let ms = 100; ms >= 1; ms--) window.add(ms);
    expect(window.percentile(0.5)).toBe(50);
    expect(window.percentile(0.99)).toBe(99);
    expect(window.percentile(1)).toBe(100);
  });

  it("forgets samples older than its capacity", () => {
    const window = new LatencyWindow(10);
    for (let i = 0; i < 10; i++) window.add(1000);
    for (let i = 0; i < 10; i++) window.add(1);
    expect(window.count).toBe(10);
    expect(window.percentile(0.99)).toBe(1);
  });

  it("has no percentile before the first sample", () => {
    expect(new LatencyWindow().percentile(0.5)).toBeUndefined();
  });
});
