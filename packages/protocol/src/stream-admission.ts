/**
 * Which streams a reassembler tracks when a new stream id arrives and its table is full: the
 * rule both reassemblers (v1 and RTP/JPEG) share. Without a key, anyone who reaches the port can
 * invent stream ids by the thousand; the rule keeps such a flood from pushing out a real stream.
 *
 * - A stream that has completed a frame ("proven") keeps its place until it is idle past the
 *   stream timeout (`expire`): newcomers never evict it.
 * - A stream that has not completed a frame yet may be replaced by a newcomer, so a forged
 *   start that never completes holds its place only until someone needs it.
 * - Per source address (when the caller gives one) at most `maxStreamsPerSource`: a source at
 *   its cap can only replace its own unproven streams, so one flooding host cannot take the
 *   places that are left for the others. Past `maxStreams` in all, the unproven stream of the
 *   source that holds the most streams goes (the oldest of them).
 *
 * A source address is not authenticated: a host that forges source addresses gets a share per
 * address it forges. With a key, only the key's holders make streams at all.
 */

/** What the rule reads of a tracked stream. */
export interface AdmissionEntry {
  /** The source address it first came from (undefined when the caller gives none). */
  readonly source: string | undefined;
  /** Whether it has completed a frame. */
  readonly proven: boolean;
  /** When it started (the `now` of its first datagram). */
  readonly firstSeenMs: number;
}

export interface AdmissionLimits {
  readonly maxStreams: number;
  readonly maxStreamsPerSource: number;
}

/** Why a new stream was not tracked: its source is at its cap, or the table is. */
export type RefusalCause = "source" | "total";

export type Admission<T> =
  { readonly kind: "admit"; readonly evict: T | undefined } | { readonly kind: "refuse"; readonly cause: RefusalCause };

const ADMIT: Admission<never> = { kind: "admit", evict: undefined };
const REFUSE_SOURCE: Admission<never> = { kind: "refuse", cause: "source" };
const REFUSE_TOTAL: Admission<never> = { kind: "refuse", cause: "total" };

/** Whether a new stream from `source` is tracked, and which tracked stream it replaces. */
export function admitStream<T extends AdmissionEntry>(
  tracked: ReadonlyMap<unknown, T>,
  source: string | undefined,
  limits: AdmissionLimits,
): Admission<T> {
  const streams = (): IterableIterator<T> => tracked.values();
  const perSource = new Map<string | undefined, number>();
  for (const s of streams()) perSource.set(s.source, (perSource.get(s.source) ?? 0) + 1);
  const total = tracked.size;
  if (limits.maxStreamsPerSource < limits.maxStreams && (perSource.get(source) ?? 0) >= limits.maxStreamsPerSource) {
    let own: T | undefined;
    for (const s of streams())
      if (s.source === source && !s.proven && (own === undefined || s.firstSeenMs < own.firstSeenMs)) own = s;
    return own === undefined ? REFUSE_SOURCE : { kind: "admit", evict: own };
  }
  if (total < limits.maxStreams) return ADMIT;
  let victim: T | undefined;
  let victimLoad = 0;
  for (const s of streams()) {
    if (s.proven) continue;
    const load = perSource.get(s.source) ?? 0;
    if (victim === undefined || load > victimLoad || (load === victimLoad && s.firstSeenMs < victim.firstSeenMs)) {
      victim = s;
      victimLoad = load;
    }
  }
  return victim === undefined ? REFUSE_TOTAL : { kind: "admit", evict: victim };
}

/** The limits from options: maxStreamsPerSource defaults to maxStreams and is at most that. */
export function admissionLimits(maxStreams: number, maxStreamsPerSource: number | undefined): AdmissionLimits {
  if (maxStreamsPerSource !== undefined && (!Number.isInteger(maxStreamsPerSource) || maxStreamsPerSource < 1))
    throw new RangeError(`maxStreamsPerSource must be a positive integer, got ${String(maxStreamsPerSource)}`);
  return { maxStreams, maxStreamsPerSource: Math.min(maxStreamsPerSource ?? maxStreams, maxStreams) };
}
