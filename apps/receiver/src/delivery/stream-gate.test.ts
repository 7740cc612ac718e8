import { describe, expect, it } from "vitest";
import { StreamGate } from "./stream-gate.js";

describe("StreamGate first", () => {
  it("takes the first stream and refuses a second while the first is live", () => {
    const gate = new StreamGate("first", 2000);
    expect(gate.decide(1, 0)).toEqual({ kind: "accept", isNew: true });
    expect(gate.decide(2, 100)).toEqual({ kind: "refuse", isNew: true, current: 1 });
    expect(gate.decide(1, 1500)).toEqual({ kind: "accept", isNew: false });
    expect(gate.decide(2, 3000)).toEqual({ kind: "refuse", isNew: false, current: 1 });
  });

  it("lets a restarted sender's new stream take over once the old one is silent", () => {
    const gate = new StreamGate("first", 2000);
    gate.decide(1, 0);
    expect(gate.decide(7, 2000)).toEqual({ kind: "accept", isNew: true, replaces: 1 });
    expect(gate.decide(1, 2100)).toEqual({ kind: "refuse", isNew: true, current: 7 });
  });
});

describe("StreamGate separate", () => {
  it("takes every stream", () => {
    const gate = new StreamGate("separate", 2000);
    expect(gate.decide(1, 0)).toEqual({ kind: "accept", isNew: true });
    expect(gate.decide(2, 1)).toEqual({ kind: "accept", isNew: true });
    expect(gate.decide(1, 2)).toEqual({ kind: "accept", isNew: false });
  });
});
