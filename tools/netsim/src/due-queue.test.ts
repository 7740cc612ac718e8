import { describe, expect, it } from "vitest";
import { DueQueue } from "./due-queue.js";
import { createRandom } from "./random.js";

const drain = <T>(queue: DueQueue<T>, nowMs: number): T[] => {
  const out: T[] = [];
  for (let item = queue.popDue(nowMs); item !== undefined; item = queue.popDue(nowMs)) out.push(item);
  return out;
};

describe("DueQueue", () => {
  it("pops only what is due, earliest first", () => {
    const queue = new DueQueue<string>();
    queue.push(30, "c");
    queue.push(10, "a");
    queue.push(20, "b");
    expect(queue.peekTime()).toBe(10);
    expect(drain(queue, 20)).toEqual(["a", "b"]);
    expect(queue.size).toBe(1);
    expect(drain(queue, 29)).toEqual([]);
    expect(drain(queue, 30)).toEqual(["c"]);
    expect(queue.peekTime()).toBe(Number.POSITIVE_INFINITY);
  });

  it("keeps arrival order among equal times", () => {
    const queue = new DueQueue<number>();
    for (let i = 0; i < 100; i++) queue.push(5, i);
    expect(drain(queue, 5)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it("agrees with a stable sort over random times, pushed and popped in turns", () => {
    const random = createRandom(3);
    const queue = new DueQueue<number>();
    const reference: { time: number; id: number }[] = [];
    const popped: number[] = [];
    const expected: number[] = [];
    for (let id = 0; id < 5000; id++) {
      const time = random.int(200);
      queue.push(time, id);
      reference.push({ time, id });
      if (id % 7 === 0) {
        const nowMs = random.int(200);
        popped.push(...drain(queue, nowMs));
        reference.sort((a, b) => a.time - b.time || a.id - b.id);
        while (reference.length > 0 && reference[0]!.time <= nowMs) expected.push(reference.shift()!.id);
      }
    }
    popped.push(...drain(queue, 200));
    reference.sort((a, b) => a.time - b.time || a.id - b.id);
    expected.push(...reference.map((entry) => entry.id));
    expect(popped).toEqual(expected);
    expect(queue.size).toBe(0);
  });
});
