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
}

export async function sendSpread(
  datagrams: readonly Uint8Array[],
  { windowMs, burstBytes, maxPerWake = Infinity }: Pacing,
  send: (datagram: Uint8Array) => void,
  clock: PacerClock,
): Promise<void> {
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
      const datagram = datagrams[next++] as Uint8Array;
      send(datagram);
      sent += datagram.length;
      thisWake++;
    }
    if (next < datagrams.length) await clock.sleep(1);
  }
}
