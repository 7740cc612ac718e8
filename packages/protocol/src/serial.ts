/**
 * Serial-number arithmetic for u32 frame numbers (RFC 1982 with SERIAL_BITS = 32).
 *
 * Frame numbers wrap from 0xFFFFFFFF to 0. `a` is newer than `b` when it is ahead of `b` by
 * less than half the number space. The one pair that RFC 1982 leaves undefined (exactly 2^31
 * apart) is ordered here so that each is "older" than the other: neither counts as newer, so a
 * receiver drops it rather than guess.
 */

export const SERIAL_MODULUS = 0x1_0000_0000;

/** The signed distance from `b` to `a`, in [-2^31, 2^31 - 1]: positive when `a` is newer. */
export function serialDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** True when `a` comes after `b`. */
export function serialNewer(a: number, b: number): boolean {
  return serialDiff(a, b) > 0;
}

/** True when `a` is `b` or comes before it. */
export function serialOlderOrEqual(a: number, b: number): boolean {
  return serialDiff(a, b) <= 0;
}

/** `a + n` wrapped into u32; `n` may be negative. */
export function serialAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** A comparator for sorting frame numbers oldest first (valid within a window of 2^31). */
export function serialCompare(a: number, b: number): number {
  return serialDiff(a, b);
}

/** The signed distance from `b` to `a` for u16 RTP sequence numbers, in [-2^15, 2^15 - 1]: positive when `a` is newer. */
export function serial16Diff(a: number, b: number): number {
  return ((a - b) << 16) >> 16;
}

/** `a + n` wrapped into u16; `n` may be negative. */
export function serial16Add(a: number, n: number): number {
  return (a + n) & 0xffff;
}
