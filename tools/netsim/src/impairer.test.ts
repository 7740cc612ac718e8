import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type Emission, Impairer, MAX_GARBAGE_BYTES, MAX_MUTATED_BYTES } from "./impairer.js";
import { type ImpairmentOptions, resolveImpairmentOptions } from "./options.js";

const impairer = (options: Partial<ImpairmentOptions>): Impairer =>
  new Impairer(resolveImpairmentOptions({ seed: 42, ...options }, () => 0));

const patterns = new Map<number, Uint8Array>();
/** Datagram `id` of `length` bytes: the id in its first 4 bytes (where they fit), then a counting pattern. */
const datagram = (id: number, length = 1472): Uint8Array => {
  let pattern = patterns.get(length);
  if (pattern === undefined) {
    pattern = Uint8Array.from({ length }, (_, i) => (i * 7) & 0xff);
    patterns.set(length, pattern);
  }
  const bytes = pattern.slice();
  if (length >= 4) new DataView(bytes.buffer).setUint32(0, id);
  return bytes;
};
/** Byte-for-byte equality; far quicker than a deep `toEqual` in loops over thousands of datagrams. */
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;
const idOf = (bytes: Uint8Array): number => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);

/** Pushes datagrams 0..count-1 at `stepMs` intervals, then flushes; copies out every emission. */
const run = (processor: Impairer, count: number, length = 1472, stepMs = 0): Emission[] => {
  const out: Emission[] = [];
  for (let id = 0; id < count; id++) out.push(...processor.push(datagram(id, length), id * stepMs));
  out.push(...processor.flush(count * stepMs));
  return out;
};
const forwardedIds = (emissions: readonly Emission[]): Set<number> =>
  new Set(
    emissions
      .filter((emission) => emission.kind === "forward" || emission.kind === "reordered")
      .map((emission) => idOf(emission.datagram)),
  );

/** Binomial bounds: the mean, give or take five standard deviations. */
const expectBinomial = (observed: number, trials: number, probability: number): void => {
  const mean = trials * probability;
  const spread = 5 * Math.sqrt(trials * probability * (1 - probability));
  expect(observed).toBeGreaterThanOrEqual(mean - spread);
  expect(observed).toBeLessThanOrEqual(mean + spread);
};

describe("Impairer without impairments", () => {
  it("forwards each datagram once, unchanged and at once", () => {
    const processor = impairer({});
    for (let id = 0; id < 100; id++) {
      const input = datagram(id, 100);
      const out = processor.push(input, id);
      expect(out).toEqual([{ datagram: input, sendAtMs: id, kind: "forward" }]);
      expect(out[0]!.datagram).toBe(input);
    }
    expect(processor.stats()).toMatchObject({
      datagramsIn: 100,
      emitted: 100,
      bytesIn: 10_000,
      bytesEmitted: 10_000,
      fragmentsIn: 100,
      dropped: 0,
    });
  });
});

describe("loss", () => {
  it("drops single-fragment datagrams at the loss rate", () => {
    const processor = impairer({ loss: 0.01 });
    const out = run(processor, 100_000);
    const stats = processor.stats();
    expectBinomial(stats.dropped, 100_000, 0.01);
    expect(stats.fragmentsLost).toBe(stats.dropped);
    expect(out.length).toBe(100_000 - stats.dropped);
  });

  it("drops a 32-fragment datagram when any fragment is lost", () => {
    const processor = impairer({ loss: 0.002 });
    run(processor, 20_000, 46_081);
    const stats = processor.stats();
    expect(stats.fragmentsIn).toBe(32 * 20_000);
    expectBinomial(stats.fragmentsLost, 32 * 20_000, 0.002);
    expectBinomial(stats.dropped, 20_000, 1 - 0.998 ** 32); // about 6.2 %
    expect(stats.dropped).toBeLessThanOrEqual(stats.fragmentsLost);
  });

  it("drops the same datagrams for the same seed, whatever else is switched on", () => {
    const lost = (options: Partial<ImpairmentOptions>): number[] => {
      const ids = forwardedIds(run(impairer({ loss: 0.05, ...options }), 2000));
      return Array.from({ length: 2000 }, (_, id) => id).filter((id) => !ids.has(id));
    };
    const base = lost({});
    expect(base.length).toBeGreaterThan(50);
    expect(lost({})).toEqual(base);
    expect(lost({ duplicate: 0.3, reorder: 0.2, truncate: 0.1, garbage: 0.1, jitterMs: 5 })).toEqual(base);
    expect(lost({ seed: 43 })).not.toEqual(base);
    const bursty = lost({ burst: 3, lossGood: 0.01 });
    expect(bursty).not.toEqual(base);
    expect(lost({ burst: 3, lossGood: 0.01, duplicate: 0.3, reorder: 0.2, truncate: 0.1, garbage: 0.1 })).toEqual(
      bursty,
    );
  });

  it("loses everything at loss 1 and nothing at loss 0", () => {
    expect(run(impairer({ loss: 1 }), 100)).toEqual([]);
    expect(run(impairer({ loss: 1, burst: 3 }), 100)).toEqual([]);
    expect(run(impairer({ loss: 0 }), 100)).toHaveLength(100);
  });

  it("loses in bursts of the asked mean length, at the same mean rate (Gilbert model)", () => {
    const processor = impairer({ loss: 0.02, burst: 5 });
    const ids = forwardedIds(run(processor, 200_000, 100));
    let bursts = 0;
    for (let id = 0; id < 200_000; id++) if (!ids.has(id) && (id === 0 || ids.has(id - 1))) bursts++;
    const { dropped } = processor.stats();
    expect(dropped / 200_000).toBeGreaterThan(0.016);
    expect(dropped / 200_000).toBeLessThan(0.024);
    expect(dropped / bursts).toBeGreaterThan(4);
    expect(dropped / bursts).toBeLessThan(6);
  });

  it("loses between bursts too with lossGood (Gilbert-Elliott), at the same mean rate", () => {
    // 2% in all, 0.5% of fragments lost between bursts, bad-state stays of mean 5. The chain is in
    // the bad state b of the time and enters it with probability e per fragment (0.0031; 0.0041
    // if only bursts lose).
    const [loss, lossGood, burst, count] = [0.02, 0.005, 5, 400_000];
    const bad = (loss - lossGood) / (1 - lossGood);
    const enter = (loss - lossGood) / (1 - loss) / burst;
    const leave = 1 / burst;
    const processor = impairer({ loss, lossGood, burst });
    const ids = forwardedIds(run(processor, count, 100));
    let afterKept = 0;
    let lostAfterKept = 0;
    let afterLost = 0;
    let lostAfterLost = 0;
    for (let id = 1; id < count; id++) {
      const lost = !ids.has(id);
      if (ids.has(id - 1)) {
        afterKept++;
        if (lost) lostAfterKept++;
      } else {
        afterLost++;
        if (lost) lostAfterLost++;
      }
    }
    // After a fragment that got through the chain is in the good state: the next is lost by entering
    // a burst or between bursts; 0.0080 here, 0.0041 if only bursts lose.
    const pLostAfterKept = enter + (1 - enter) * lossGood;
    // After a lost one: still in the burst (or leaving it and lost anyway), or a loss between bursts
    // followed by another; 0.61 here, 0.80 if only bursts lose.
    const pLostAfterLost = (bad * (1 - leave + leave * lossGood) + (1 - bad) * lossGood * pLostAfterKept) / loss;
    const near = (observed: number, expected: number, relative: number): void => {
      expect(observed).toBeGreaterThan(expected * (1 - relative));
      expect(observed).toBeLessThan(expected * (1 + relative));
    };
    near(processor.stats().dropped / count, loss, 0.1);
    near(lostAfterKept / afterKept, pLostAfterKept, 0.1);
    near(lostAfterLost / afterLost, pLostAfterLost, 0.1);
    // The same chain with no loss between bursts is told apart by both figures.
    expect(lostAfterKept / afterKept).toBeGreaterThan(1.5 * (loss / (1 - loss) / burst));
    expect(lostAfterLost / afterLost).toBeLessThan(0.7);
  });

  it("with lossGood 0 loses exactly what the Gilbert model without it lost (seeds keep their meaning)", () => {
    const lostIds = (options: Partial<ImpairmentOptions>): number[] => {
      const ids = forwardedIds(run(impairer({ loss: 0.02, burst: 4, ...options }), 20_000, 100));
      return Array.from({ length: 20_000 }, (_, id) => id).filter((id) => !ids.has(id));
    };
    const gilbert = lostIds({});
    expect(lostIds({ lossGood: 0 })).toEqual(gilbert);
    // Loss between bursts adds isolated losses and makes bursts rarer: a different pattern.
    expect(lostIds({ lossGood: 0.005 })).not.toEqual(gilbert);
  });
});

describe("duplicate", () => {
  it("sends a second, identical copy right after the first", () => {
    const processor = impairer({ duplicate: 0.1 });
    const out = run(processor, 10_000);
    const copies = out.filter((emission) => emission.kind === "duplicate");
    expectBinomial(copies.length, 10_000, 0.1);
    expect(processor.stats().duplicated).toBe(copies.length);
    out.forEach((emission, at) => {
      if (emission.kind !== "duplicate") return;
      const original = out[at - 1]!;
      expect(original.kind).toBe("forward");
      expect(sameBytes(emission.datagram, original.datagram)).toBe(true);
      expect(sameBytes(emission.datagram, datagram(idOf(original.datagram)))).toBe(true);
    });
    expect(out.filter((emission) => emission.kind === "forward").map((emission) => idOf(emission.datagram))).toEqual(
      Array.from({ length: 10_000 }, (_, id) => id),
    );
  });
});

describe("reorder", () => {
  it("releases a held datagram right after K later datagrams have gone ahead", () => {
    const processor = impairer({ reorder: 0.2, reorderGap: 3 });
    const out = run(processor, 5000);
    const order = out.map((emission) => idOf(emission.datagram));
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 5000 }, (_, id) => id));
    const late = out.filter((emission) => emission.kind === "reordered");
    expectBinomial(late.length, 5000, 0.2);
    expect(processor.stats().reordered).toBe(late.length);
    const heldIds = new Set(late.map((emission) => idOf(emission.datagram)));
    out.forEach((emission, at) => {
      const id = idOf(emission.datagram);
      const overtakers = order.slice(0, at).filter((other) => other > id && !heldIds.has(other)).length;
      if (emission.kind === "reordered" && id < 4990) expect(overtakers).toBe(3);
      if (emission.kind === "forward") expect(overtakers).toBe(0);
    });
  });

  it("releases a held datagram after reorderMaxMs when nothing follows it", () => {
    const processor = impairer({ reorder: 1, reorderMaxMs: 50 });
    expect(processor.push(datagram(1), 0)).toEqual([]);
    expect(processor.push(datagram(2), 10)).toEqual([]);
    expect(processor.nextReleaseMs()).toBe(50);
    expect(processor.stats().held).toBe(2);
    expect(processor.poll(49.9)).toEqual([]);
    expect(processor.poll(55).map((emission) => [idOf(emission.datagram), emission.kind, emission.sendAtMs])).toEqual([
      [1, "reordered", 55],
    ]);
    expect(processor.poll(60).map((emission) => idOf(emission.datagram))).toEqual([2]);
    expect(processor.nextReleaseMs()).toBeUndefined();
    expect(processor.stats().held).toBe(0);
  });

  it("holds a duplicated datagram's copy with it", () => {
    const processor = impairer({ reorder: 1, duplicate: 1 });
    processor.push(datagram(9), 0);
    expect(processor.stats().held).toBe(2);
    const out = processor.flush(1);
    expect(out.map((emission) => emission.kind)).toEqual(["reordered", "duplicate"]);
    expect(out[1]!.datagram).toEqual(datagram(9));
  });
});

describe("truncate", () => {
  it("cuts datagrams to a strictly shorter prefix of themselves", () => {
    const processor = impairer({ truncate: 0.3 });
    const out = run(processor, 5000, 200);
    const short = out.filter((emission) => emission.datagram.length < 200);
    expectBinomial(short.length, 5000, 0.3);
    expect(processor.stats().truncated).toBe(short.length);
    const lengths = new Set<number>();
    out.forEach((emission, id) => {
      const whole = datagram(id, 200);
      expect(sameBytes(emission.datagram, whole.subarray(0, emission.datagram.length))).toBe(true);
      lengths.add(emission.datagram.length);
    });
    expect(lengths.has(0)).toBe(true); // down to empty
    expect(lengths.size).toBeGreaterThan(150);
  });

  it("leaves an empty datagram alone", () => {
    const processor = impairer({ truncate: 1 });
    expect(processor.push(new Uint8Array(0), 0)).toHaveLength(1);
    expect(processor.stats().truncated).toBe(0);
  });
});

describe("garbage", () => {
  it("injects random datagrams and mutated copies, and still forwards the original intact", () => {
    const processor = impairer({ garbage: 0.2 });
    const out = run(processor, 5000, 300);
    const random = out.filter((emission) => emission.kind === "garbage-random");
    const mutated = out.filter((emission) => emission.kind === "garbage-mutated");
    const stats = processor.stats();
    expectBinomial(random.length + mutated.length, 5000, 0.2);
    expect(stats).toMatchObject({
      garbageInjected: random.length + mutated.length,
      garbageRandom: random.length,
      garbageMutated: mutated.length,
    });
    expect(random.length).toBeGreaterThan(300);
    expect(mutated.length).toBeGreaterThan(300);
    for (const emission of random) {
      expect(emission.datagram.length).toBeGreaterThanOrEqual(1);
      expect(emission.datagram.length).toBeLessThanOrEqual(MAX_GARBAGE_BYTES);
    }
    expect(new Set(random.map((emission) => emission.datagram.length)).size).toBeGreaterThan(200);
    const changedCounts = new Set<number>();
    out.forEach((emission, at) => {
      if (emission.kind !== "garbage-mutated") return;
      // The original follows its mutated copy.
      const original = out[at + 1]!;
      expect(original.kind).toBe("forward");
      const id = idOf(original.datagram);
      expect(sameBytes(original.datagram, datagram(id, 300))).toBe(true);
      expect(emission.datagram.length).toBe(300);
      const changed = emission.datagram.filter((byte, i) => byte !== original.datagram[i]).length;
      expect(changed).toBeGreaterThanOrEqual(1);
      expect(changed).toBeLessThanOrEqual(MAX_MUTATED_BYTES);
      changedCounts.add(changed);
    });
    expect([...changedCounts].sort()).toEqual([1, 2, 3, 4]);
    expect(out.filter((emission) => emission.kind === "forward")).toHaveLength(5000);
  });

  it("never hands out the pushed buffer as a mutated copy", () => {
    const processor = impairer({ garbage: 1 });
    const input = datagram(1, 64);
    const before = input.slice();
    for (let i = 0; i < 50; i++) processor.push(input, i);
    expect(input).toEqual(before);
  });
});

describe("delay, jitter and rate", () => {
  it("delays by a fixed amount", () => {
    const out = run(impairer({ delayMs: 25 }), 10, 100, 1);
    expect(out.map((emission) => emission.sendAtMs)).toEqual(Array.from({ length: 10 }, (_, id) => id + 25));
  });

  it("spreads delays uniformly within the jitter, never below zero", () => {
    const out = run(impairer({ delayMs: 20, jitterMs: 5 }), 5000, 100);
    const delays = out.map((emission) => emission.sendAtMs);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(15);
    expect(Math.max(...delays)).toBeLessThanOrEqual(25);
    expect(delays.reduce((sum, delay) => sum + delay, 0) / delays.length).toBeCloseTo(20, 0);
    const clamped = run(impairer({ delayMs: 1, jitterMs: 10 }), 1000, 100).map((emission) => emission.sendAtMs);
    expect(Math.min(...clamped)).toBe(0);
  });

  it("serialises datagrams at the rate and drops past the queue limit", () => {
    // 1472 bytes + 8 + 20 = 1500 bytes = 12,000 bits: 1.2 ms each at 10 Mbit/s.
    const processor = impairer({ rateMbit: 10, queueMs: 100 });
    const out = run(processor, 200);
    expect(out).toHaveLength(84); // the 85th would start 100.8 ms late
    out.forEach((emission, k) => expect(emission.sendAtMs).toBeCloseTo(1.2 * (k + 1), 9));
    expect(processor.stats().queueDropped).toBe(116);
    // Once the queue has drained, a datagram goes through again.
    expect(processor.push(datagram(999), 500)[0]!.sendAtMs).toBeCloseTo(501.2, 9);
  });
});

describe("everything at once", () => {
  const options: Partial<ImpairmentOptions> = {
    loss: 0.02,
    burst: 2,
    duplicate: 0.05,
    reorder: 0.05,
    truncate: 0.05,
    garbage: 0.05,
    delayMs: 3,
    jitterMs: 2,
    rateMbit: 50,
    queueMs: 20,
  };
  const snapshot = (seed: number): unknown[] =>
    run(impairer({ ...options, seed }), 3000, 3000, 0.3).map((emission) => [
      emission.kind,
      emission.sendAtMs,
      createHash("sha256").update(emission.datagram).digest("hex"),
    ]);

  it("accounts for every datagram", () => {
    const processor = impairer(options);
    const out = run(processor, 3000, 3000, 0.3);
    const stats = processor.stats();
    expect(stats.held).toBe(0);
    expect(stats.emitted).toBe(out.length);
    expect(stats.bytesEmitted).toBe(out.reduce((sum, emission) => sum + emission.datagram.length, 0));
    expect(stats.datagramsIn - stats.dropped + stats.duplicated + stats.garbageInjected).toBe(
      stats.emitted + stats.queueDropped,
    );
    for (const key of ["dropped", "queueDropped", "reordered", "duplicated", "truncated", "garbageInjected"] as const) {
      expect(stats[key], key).toBeGreaterThan(0);
    }
  });

  it("makes the same emissions, byte for byte and time for time, for the same seed", () => {
    expect(snapshot(7)).toEqual(snapshot(7));
    expect(snapshot(7)).not.toEqual(snapshot(8));
  });
});

describe("outage", () => {
  it("loses every datagram for outageMs from outageAtMs after the first, and nothing else", () => {
    const processor = impairer({ outageMs: 300, outageAtMs: 1000 });
    // One datagram every 2 ms for 3 s, starting at 5000 ms (the outage counts from the first).
    const out: Emission[] = [];
    for (let id = 0; id < 1500; id++) out.push(...processor.push(datagram(id), 5000 + id * 2));
    const ids = forwardedIds(out);
    const lost = Array.from({ length: 1500 }, (_, id) => id).filter((id) => !ids.has(id));
    expect(lost[0]).toBe(500);
    expect(lost[lost.length - 1]).toBe(649);
    expect(lost).toHaveLength(150);
    expect(processor.stats()).toMatchObject({ outageDropped: 150, dropped: 0 });
  });
});
