import { describe, expect, it } from "vitest";
import { StreamGate } from "./stream-gate.js";

describe("StreamGate first", () => {
  it("takes the first stream and refuses a second while the first is live", () => {
    const gate = new StreamGate("first", 2000);
    expect(gate.decide(1, 0)).toEqual({ kind: "accept", isNew: true });
    expect(gate.decide(2, 100)).toEqual({ kind: "refuse", isNew: true, cause: "first", current: 1 });
    expect(gate.decide(1, 1500)).toEqual({ kind: "accept", isNew: false });
    expect(gate.decide(2, 3000)).toEqual({ kind: "refuse", isNew: false, cause: "first", current: 1 });
  });

  it("lets a restarted sender's new stream take over once the old one is silent", () => {
    const gate = new StreamGate("first", 2000);
    gate.decide(1, 0);
    expect(gate.decide(7, 2000)).toEqual({ kind: "accept", isNew: true, replaces: 1 });
    expect(gate.decide(1, 2100)).toEqual({ kind: "refuse", isNew: true, cause: "first", current: 7 });
  });
});

describe("StreamGate separate", () => {
  it("takes every stream", () => {
    const gate = new StreamGate("separate", 2000);
    expect(gate.decide(1, 0)).toEqual({ kind: "accept", isNew: true });
    expect(gate.decide(2, 1)).toEqual({ kind: "accept", isNew: true });
    expect(gate.decide(1, 2)).toEqual({ kind: "accept", isNew: false });
  });

  it("takes at most maxStreams at once: a newcomer waits until one has been silent, then takes its place", () => {
    const gate = new StreamGate("separate", 2000, 2);
    gate.decide(1, 0);
    gate.decide(2, 10);
    for (let id = 100; id < 10_100; id++) expect(gate.decide(id, 1000).kind).toBe("refuse");
    expect(gate.decide(3, 1500)).toEqual({ kind: "refuse", isNew: true, cause: "cap", current: 1 });
    gate.decide(2, 1900);
    expect(gate.decide(3, 2000)).toEqual({ kind: "accept", isNew: true, replaces: 1 });
    expect(gate.streams).toBe(2);
    expect(gate.decide(1, 2001)).toMatchObject({ kind: "refuse", cause: "cap" });
  });
});
