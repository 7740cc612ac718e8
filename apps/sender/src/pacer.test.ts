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
