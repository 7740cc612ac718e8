import { describe, expect, it } from "vitest";
import { LogThrottle } from "./log-throttle.js";

describe("LogThrottle", () => {
  it("lets the first through, then one per interval, counting those held back", () => {
    const throttle = new LogThrottle(10_000);
    expect(throttle.take(0)).toBe(0);
    expect(throttle.take(1)).toBeUndefined();
    expect(throttle.take(9_999)).toBeUndefined();
    expect(throttle.take(10_000)).toBe(2);
    expect(throttle.take(10_001)).toBeUndefined();
    expect(throttle.take(30_000)).toBe(1);
    expect(throttle.take(50_000)).toBe(0);
  });
});
