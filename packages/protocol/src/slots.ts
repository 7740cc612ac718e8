import { MAX_FEC_GROUP_DATA, MAX_FEC_GROUP_PARITY } from "./fec.js";

/**
 * Slot math, in one place: where chunk i of a frame of N bytes cut into P-byte chunks goes, and
 * which FEC group each data and parity chunk belongs to.
 *
 * A frame of N bytes is K = ceil(N / P) data chunks; chunk i holds bytes [i*P, min(N, (i+1)*P)).
 * Data chunks are spread over G groups by interleaving (chunk i is in group i mod G, at position
 * floor(i / G)), so a burst of consecutive losses falls on different groups. Each group has m
 * parity chunks; parity chunk j (0 <= j < G*m) protects group j mod G as parity row floor(j / G)
 * and travels with chunk index K + j. Every parity chunk is P bytes (the short last data chunk
 * counts as zero-padded).
 */

/** Most chunks (data + parity) of one frame: the chunk index is a u16. */
export const MAX_CHUNKS_PER_FRAME = 0xffff;

/** Data chunks of a frame of `frameBytes` cut into `chunkBytes`-byte chunks. */
export function chunkCount(frameBytes: number, chunkBytes: number): number {
  return Math.ceil(frameBytes / chunkBytes);
}

/** Where data chunk `index` starts in the frame. */
export function chunkOffset(index: number, chunkBytes: number): number {
  return index * chunkBytes;
}

/** Bytes of data chunk `index` (all are `chunkBytes` but the last). */
export function chunkLength(index: number, frameBytes: number, chunkBytes: number): number {
  return Math.min(chunkBytes, frameBytes - index * chunkBytes);
}

/** How a frame's data chunks are grouped for FEC. */
export interface FecLayout {
  /** G: groups (>= 1). */
  readonly groups: number;
  /** m: parity chunks per group (0 = no FEC). */
  readonly parityPerGroup: number;
}

/** Default cap on data chunks per FEC group: encode cost per byte grows with it. */
export const DEFAULT_FEC_GROUP_SIZE = 48;

/**
 * The layout for K data chunks at `overhead` (parity / data, 0..1) with at most `maxGroupSize`
 * data chunks per group: G = ceil(K / maxGroupSize) groups and m = ceil(overhead * K / G) parity
 * per group, so the real overhead is at least the one asked for.
 */
export function fecLayout(dataChunks: number, overhead: number, maxGroupSize = DEFAULT_FEC_GROUP_SIZE): FecLayout {
  if (overhead <= 0 || dataChunks === 0) return { groups: 1, parityPerGroup: 0 };
  const groups = Math.ceil(dataChunks / maxGroupSize);
  // The epsilon keeps 0.1 * 30 (= 3.0000000000000004) at 3.
  const parityPerGroup = Math.min(MAX_FEC_GROUP_PARITY, Math.ceil((overhead * dataChunks) / groups - 1e-9));
  return { groups, parityPerGroup };
}

/** Data chunks in group `group` (groups differ by at most one). */
export function groupDataCount(group: number, dataChunks: number, groups: number): number {
  return Math.floor((dataChunks - group - 1) / groups) + 1;
}

/** Total parity chunks of a frame. */
export function parityCount(layout: FecLayout): number {
  return layout.groups * layout.parityPerGroup;
}

/**
 * Why K data chunks with this layout cannot be sent, or undefined when they can.
 * The same rule checks encode arguments and decoded headers.
 */
export function layoutProblem(dataChunks: number, layout: FecLayout): string | undefined {
  const { groups, parityPerGroup } = layout;
  if (groups < 1 || groups > dataChunks)
    return `FEC groups ${groups} must be from 1 to the data chunk count ${dataChunks}`;
  if (parityPerGroup === 0 && groups !== 1) return `FEC groups ${groups} must be 1 when there is no parity`;
  if (parityPerGroup > MAX_FEC_GROUP_PARITY)
    return `parity per group ${parityPerGroup} is more than ${MAX_FEC_GROUP_PARITY}`;
  const largest = Math.ceil(dataChunks / groups);
  if (parityPerGroup > 0 && largest > MAX_FEC_GROUP_DATA)
    return `FEC groups of ${largest} data chunks are more than ${MAX_FEC_GROUP_DATA}`;
  const total = dataChunks + groups * parityPerGroup;
  if (total > MAX_CHUNKS_PER_FRAME)
    return `${dataChunks} data + ${groups * parityPerGroup} parity chunks are more than ${MAX_CHUNKS_PER_FRAME}`;
  return undefined;
}
