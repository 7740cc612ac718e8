import { describe, expect, it } from "vitest";
import { sendSpread, type PacerClock } from "./pacer.js";

const PACING_BURST_BYTES = 128 * 1024;

function fakeClock(): PacerClock & { time: number } {
  const clock = {
    time: 0,
    now: () => clock.time,
    sleep: (ms: number) => {
      clock.time += ms;
      return Promise.resolve();
    },
  };
  return clock;
}

describe("sendSpread", () => {
  it("spreads a raw frame evenly across the window, never more than one burst ahead", async () => {
    const clock = fakeClock();
    const datagrams = Array.from({ length: 640 }, (_, i) => new Uint8Array(1440).fill(i & 0xff));
    const sentAt: { time: number; first: number }[] = [];
    await sendSpread(
      datagrams,
      { windowMs: 32, burstBytes: PACING_BURST_BYTES },
      (d) => sentAt.push({ time: clock.time, first: d[0] ?? -1 }),
      clock,
    );

    expect(sentAt.map((s) => s.first)).toEqual(datagrams.map((d) => d[0]));
    const total = 640 * 1440;
    let bytes = 0;
    for (const { time } of sentAt) {
      bytes += 1440;
      expect(bytes).toBeLessThanOrEqual((total * time) / 32 + PACING_BURST_BYTES + 1440);
    }
    expect(sentAt.at(-1)?.time).toBeGreaterThan(20);
    expect(sentAt.at(-1)?.time).toBeLessThanOrEqual(32);
  });

  it("sends at once when the window is zero (as fast as possible)", async () => {
    const clock = fakeClock();
    const times: number[] = [];
    await sendSpread(
      Array.from({ length: 100 }, () => new Uint8Array(65_000)),
      { windowMs: 0, burstBytes: PACING_BURST_BYTES },
      () => times.push(clock.time),
      clock,
    );
    expect(times).toHaveLength(100);
    expect(new Set(times)).toEqual(new Set([0]));
  });

  it("with maxPerWake, a late wake-up falls behind instead of catching up in a burst", async () => {
    // A clock whose third sleep oversleeps by 10 ms, as a busy machine does.
    let sleeps = 0;
    const clock = {
      time: 0,
      now: () => clock.time,
      sleep: (ms: number) => {
        clock.time += ms + (++sleeps === 3 ? 10 : 0);
        return Promise.resolve();
      },
    };
    const datagrams = Array.from({ length: 20 }, () => new Uint8Array(46_081));
    const times: number[] = [];
    await sendSpread(
      datagrams,
      { windowMs: 28, burstBytes: 46_081, maxPerWake: 1 },
      () => times.push(clock.time),
      clock,
    );
    expect(times).toHaveLength(20);
    // One datagram per wake-up, whatever the schedule says: never two at the same moment.
    expect(new Set(times).size).toBe(20);

    // Without the limit the same late wake-up lets out what the schedule allows, at once.
    sleeps = 0;
    clock.time = 0;
    const burst: number[] = [];
    await sendSpread(datagrams, { windowMs: 28, burstBytes: 46_081 }, () => burst.push(clock.time), clock);
    expect(burst.length - new Set(burst).size).toBeGreaterThanOrEqual(5);
  });
});

describe("sendSpread with schedule bursts", () => {
  /** A raw 640x480 frame as v1 packs it on loopback: 14 full 65,507-byte datagrams and the rest. */
  const rawFrame = (): Uint8Array[] =>
    Array.from({ length: 15 }, (_, i) => new Uint8Array(i < 14 ? 65_507 : 5_230).fill(i));

  async function wire(
    datagrams: readonly Uint8Array[],
    windowMs: number,
    clock = fakeClock(),
  ): Promise<{ time: number; bytes: number; first: number[] }[]> {
    const bursts: { time: number; bytes: number; first: number[] }[] = [];
    await sendSpread(
      datagrams,
      { windowMs, burstBytes: PACING_BURST_BYTES, schedule: "bursts" },
      (d) => {
        const last = bursts.at(-1);
        if (last?.time === clock.time) {
          last.bytes += d.length;
          last.first.push(d[0] ?? -1);
        } else bursts.push({ time: clock.time, bytes: d.length, first: [d[0] ?? -1] });
      },
      clock,
    );
    return bursts;
  }

  it("sends a raw frame in bursts of at most 128 KiB, one a wake-up, spaced so the frame fills the window", async () => {
    const datagrams = rawFrame();
    const total = datagrams.reduce((sum, d) => sum + d.length, 0);
    const bursts = await wire(datagrams, 32);

    // Every datagram once, in order; two 65,507-byte datagrams a burst, the last alone.
    expect(bursts.flatMap((b) => b.first)).toEqual(datagrams.map((d) => d[0]));
    expect(bursts.map((b) => b.first.length)).toEqual([2, 2, 2, 2, 2, 2, 2, 1]);
    for (const burst of bursts) expect(burst.bytes).toBeLessThanOrEqual(PACING_BURST_BYTES);
    // Each burst when the even schedule reaches its first byte (half a millisecond early at most), not before.
    let before = 0;
    for (const burst of bursts) {
      expect(burst.time).toBeGreaterThanOrEqual((before * 32) / total - 0.5);
      expect(burst.time).toBeLessThanOrEqual((before * 32) / total + 0.001);
      before += burst.bytes;
    }
    const gaps = bursts.slice(1).map((b, i) => b.time - (bursts[i]?.time ?? 0));
    for (const gap of gaps) expect(gap).toBeGreaterThan(4);
    expect(bursts.at(-1)?.time).toBeLessThanOrEqual(32);
  });

  it("at a high frame rate, where bursts are due faster than a timer wakes, sends what is due at each wake-up", async () => {
    const datagrams = rawFrame();
    // 200 fps: 80% of 5 ms. Bursts are due every ~0.57 ms, the pacer sleeps at least 1 ms.
    const bursts = await wire(datagrams, 4);
    expect(bursts.flatMap((b) => b.first)).toEqual(datagrams.map((d) => d[0]));
    expect(bursts.at(-1)?.time).toBeLessThanOrEqual(4);
    for (const gap of bursts.slice(1).map((b, i) => b.time - (bursts[i]?.time ?? 0)))
      expect(gap).toBeGreaterThanOrEqual(1);
    expect(bursts.length).toBeLessThanOrEqual(5);
  });

  it("sends at once when the window is under 2 ms (a late frame)", async () => {
    const bursts = await wire(rawFrame(), 1.5);
    expect(bursts).toHaveLength(1);
    expect(bursts[0]?.first).toHaveLength(15);
  });

  it("sends a datagram larger than a burst alone, and small ones together", async () => {
    const datagrams = [200_000, 60_000, 60_000, 130_000, 1_472].map((n, i) => new Uint8Array(n).fill(i));
    const bursts = await wire(datagrams, 40);
    expect(bursts.map((b) => b.first)).toEqual([[0], [1, 2], [3], [4]]);
  });
});
