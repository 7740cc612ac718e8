/**
 * Spreads one frame's datagrams across a time window instead of sending them
 * in one burst: a burst of a raw frame (900 KB) overflows a receiver's default
 * 208 KiB socket buffer, and the datagrams that do not fit are lost.
 */
export interface PacerClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const MIN_WINDOW_MS = 2;

export interface Pacing {
  /** Time to spread the datagrams over; 0 sends them at once. */
  readonly windowMs: number;
  /** What may go out at once, ahead of the even schedule. */
  readonly burstBytes: number;
  /**
   * Datagrams sent at most per wake-up (default: no limit). A sender that wakes late (its
   * timer, its garbage collector, a busy machine) would otherwise catch up on the schedule in
   * one burst; with a limit it falls behind instead and the frame takes longer.
   */
  readonly maxPerWake?: number;
  /**
   * `even` (the default): each wake-up, about once a millisecond, tops the frame up to the even schedule plus
   * `burstBytes`, so a raw frame's 65,507-byte datagrams go out one a wake-up and the receiver wakes once per
   * datagram. `bursts`: the datagrams go out in bursts of at most `burstBytes` (a datagram larger than that alone),
   * each when the even schedule reaches its first byte, and the pacer sleeps until the next one is due: as few
   * wake-ups on both sides as the burst size allows, the same average rate. `maxPerWake` applies to `even` only.
   */
  readonly schedule?: "even" | "bursts";
}

/** A burst due this close ahead is sent now: a timer fires on whole milliseconds, and sleeping again for less is a wake-up for nothing. */
const EARLY_MS = 0.5;

/** A datagram as the pacer sees it: its size. */
export interface Sized {
  readonly length: number;
}

export async function sendSpread<D extends Sized>(
  datagrams: readonly D[],
  pacing: Pacing,
  send: (datagram: D) => void,
  clock: PacerClock,
): Promise<void> {
  if (pacing.schedule === "bursts") return sendBursts(datagrams, pacing, send, clock);
  const { windowMs, burstBytes, maxPerWake = Infinity } = pacing;
  let total = 0;
  for (const datagram of datagrams) total += datagram.length;
  const start = clock.now();
  let sent = 0;
  let next = 0;
  // A timer sleeps at least 1-2 ms: a window shorter than that is not worth spreading over.
  const spreadMs = windowMs < MIN_WINDOW_MS ? 0 : windowMs;
  while (next < datagrams.length) {
    const elapsed = clock.now() - start;
    const allowed = spreadMs <= 0 || elapsed >= spreadMs ? Infinity : (total * elapsed) / spreadMs + burstBytes;
    let thisWake = 0;
    while (next < datagrams.length && sent < allowed && thisWake < maxPerWake) {
      const datagram = datagrams[next++] as D;
      send(datagram);
      sent += datagram.length;
      thisWake++;
    }
    if (next < datagrams.length) await clock.sleep(1);
  }
}

async function sendBursts<D extends Sized>(
  datagrams: readonly D[],
  { windowMs, burstBytes }: Pacing,
  send: (datagram: D) => void,
  clock: PacerClock,
): Promise<void> {
  let total = 0;
  for (const datagram of datagrams) total += datagram.length;
  const start = clock.now();
  const spreadMs = windowMs < MIN_WINDOW_MS ? 0 : windowMs;
  let sent = 0;
  let next = 0;
  while (next < datagrams.length) {
    // Every burst whose first byte the even schedule has reached (a late wake-up sends all of them).
    const elapsed = clock.now() - start + EARLY_MS;
    const reached = spreadMs === 0 || elapsed >= spreadMs ? Infinity : (total * elapsed) / spreadMs;
    while (next < datagrams.length && sent <= reached) {
      let burst = 0;
      do {
        const datagram = datagrams[next++] as D;
        send(datagram);
        burst += datagram.length;
      } while (next < datagrams.length && burst + (datagrams[next] as D).length <= burstBytes);
      sent += burst;
    }
    if (next < datagrams.length) await clock.sleep(Math.max(1, (sent * spreadMs) / total - (clock.now() - start)));
  }
}
