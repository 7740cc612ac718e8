// A cost split into what one more unit costs and what is paid once, from runs of two lengths: the same
// setup run for `short` and for `long` units (frames, datagrams), the median cost of each length, and the
// straight line through the two medians. Its slope is the marginal cost a unit (process start and shut-down
// cancel out); what is left at 0 units is the fixed cost (start-up, shut-down, idle time before and after).
import { median } from "./summary.js";

/** One length: how many units each run had, and what each run cost (undefined: the run gave no figure). */
export interface Length {
  readonly units: number;
  readonly costs: readonly (number | undefined)[];
}

export interface Slope {
  /** (median cost of the long runs - median of the short ones) / (long units - short units). */
  readonly perUnit: number | undefined;
  /** The line at 0 units: median of the short runs - perUnit x short units. */
  readonly fixed: number | undefined;
}

/** Undefined figures when either length has no run with a figure, or the lengths do not differ (long <= short). */
export function slope(short: Length, long: Length): Slope {
  const s = median(short.costs);
  const l = median(long.costs);
  if (s === undefined || l === undefined || long.units <= short.units) return { perUnit: undefined, fixed: undefined };
  const perUnit = (l - s) / (long.units - short.units);
  return { perUnit, fixed: s - perUnit * short.units };
}
