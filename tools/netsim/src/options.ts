import { decimal, integer, optional, type OptionDef, type OptionTable } from "@udpcam/appkit";
import { MAX_IPV4_MTU, MIN_IPV4_MTU } from "./fragments.js";
import { MAX_SEED } from "./random.js";

const probability = (help: string): OptionDef<number> => ({ schema: decimal(0, 1), default: 0, value: "P", help });
const milliseconds = (defaultValue: number, help: string): OptionDef<number> => ({
  schema: decimal(0, 600_000),
  default: defaultValue,
  value: "MS",
  help,
});

/** What the impairment processor does to each datagram. All probabilities are per datagram unless noted. */
export interface ImpairmentOptions {
  /** Seed of every random choice; the same seed and options give the same decisions. */
  readonly seed: number;
  /** Link MTU in bytes; datagrams larger than one packet travel as several IPv4 fragments. */
  readonly mtu: number;
  /** Probability that one IP fragment is lost; a datagram is lost if any of its fragments is. */
  readonly loss: number;
  /** Mean length of a loss burst in fragments (Gilbert model); 0 = independent losses. */
  readonly burst: number;
  /**
   * With `burst`: probability that a fragment is lost outside a burst (the good state of a
   * Gilbert-Elliott chain); `loss` stays the long-run mean over both states. 0 = only bursts lose.
   */
  readonly lossGood: number;
  /** Probability that a datagram is held back. */
  readonly reorder: number;
  /** A held datagram is released after this many later datagrams have gone ahead of it... */
  readonly reorderGap: number;
  /** ...or after this many milliseconds, whichever comes first. */
  readonly reorderMaxMs: number;
  /** Probability that a datagram is sent twice. */
  readonly duplicate: number;
  /** Fixed one-way delay in milliseconds. */
  readonly delayMs: number;
  /** Each datagram's delay varies uniformly by up to this many milliseconds either way (this alone can reorder). */
  readonly jitterMs: number;
  /** Probability that a datagram is cut to a random shorter length. */
  readonly truncate: number;
  /** Probability, per datagram in, of injecting one garbage datagram (random bytes, or a copy with bytes flipped). */
  readonly garbage: number;
  /** Link rate in megabits per second (IP and UDP headers included); 0 = unlimited. */
  readonly rateMbit: number;
  /** With a rate: a datagram that would wait longer than this behind the link is dropped (tail drop). */
  readonly queueMs: number;
  /** An outage: every datagram is lost for `outageMs` from `outageAtMs` after the first datagram; 0 = none. */
  readonly outageMs: number;
  readonly outageAtMs: number;
  /** Probability that a reply (target back to the sender: a NACK, say) is lost; independent, seeded. */
  readonly reverseLoss: number;
}

/**
 * Every impairment option as a row of appkit's option table (what the apps use), keyed by
 * its command-line name (`reorderGap` is `--reorder-gap`), in the order `--help` lists
 * them. `IMPAIRMENT_KEYS` maps each row to its `ImpairmentOptions` field. `seed` has no
 * default: a random one is drawn.
 */
export const IMPAIRMENT_OPTIONS = {
  loss: probability("probability that one IP fragment is lost; a datagram is lost if any fragment is"),
  mtu: {
    schema: integer(MIN_IPV4_MTU, MAX_IPV4_MTU),
    default: 1500,
    value: "BYTES",
    help: "link MTU: sets how many fragments a datagram takes",
  },
  burst: {
    schema: decimal(0, 1_000_000),
    default: 0,
    value: "N",
    help: "mean loss burst length in fragments (Gilbert model, same mean loss); 0 = independent",
  },
  lossGood: probability(
    "with --burst: probability that a fragment is lost between bursts too (Gilbert-Elliott); --loss stays the mean",
  ),
  reorder: probability("probability that a datagram is held back"),
  reorderGap: {
    schema: integer(1, 1_000_000),
    default: 3,
    value: "K",
    help: "a held datagram is released after K later datagrams...",
  },
  reorderMaxMs: milliseconds(50, "...or after this long, whichever comes first"),
  duplicate: probability("probability that a datagram is sent twice"),
  delay: milliseconds(0, "fixed one-way delay"),
  jitter: milliseconds(0, "delay varies uniformly by up to this much either way (reorders by itself)"),
  truncate: probability("probability that a datagram is cut to a random shorter length"),
  garbage: probability(
    "probability, per datagram in, of injecting a garbage datagram (random bytes or a mutated copy)",
  ),
  rate: {
    schema: decimal(0, 1_000_000),
    default: 0,
    value: "MBIT",
    help: "link rate in Mbit/s, headers included; 0 = unlimited",
  },
  queueMs: milliseconds(100, "with --rate: drop a datagram that would wait longer than this for the link"),
  outage: milliseconds(0, "an outage: lose every datagram for MS milliseconds (0 = none)..."),
  outageAt: milliseconds(0, "...starting this long after the first datagram"),
  reverseLoss: probability("probability that a reply from the target back to the sender is lost (independent)"),
  seed: {
    schema: optional(integer(0, MAX_SEED)),
    default: undefined,
    value: "N",
    help: "seed of every random choice; unset: a random one, reported in the stats",
  },
} satisfies OptionTable;

export type ImpairmentOption = keyof typeof IMPAIRMENT_OPTIONS;

export const IMPAIRMENT_KEYS = {
  loss: "loss",
  mtu: "mtu",
  burst: "burst",
  lossGood: "lossGood",
  reorder: "reorder",
  reorderGap: "reorderGap",
  reorderMaxMs: "reorderMaxMs",
  duplicate: "duplicate",
  delay: "delayMs",
  jitter: "jitterMs",
  truncate: "truncate",
  garbage: "garbage",
  rate: "rateMbit",
  queueMs: "queueMs",
  outage: "outageMs",
  outageAt: "outageAtMs",
  reverseLoss: "reverseLoss",
  seed: "seed",
} as const satisfies Record<ImpairmentOption, keyof ImpairmentOptions>;

/** A value that is out of range or not a number, named by the option's key or flag. */
export interface OptionIssue {
  readonly path: string;
  readonly message: string;
}

/** Thrown by `resolveImpairmentOptions` and `startNetsim` for options that cannot be used; `issues` lists each one. */
export class NetsimOptionsError extends Error {
  readonly code = "NETSIM_BAD_OPTIONS";
  readonly issues: readonly OptionIssue[];
  constructor(issues: readonly OptionIssue[]) {
    super(issues.map((issue) => `${issue.path}: ${issue.message}`).join("; "));
    this.name = "NetsimOptionsError";
    this.issues = issues;
  }
}

/** How issues name an option: by its `ImpairmentOptions` key (the library) or by its flag (the command line). */
export type OptionNamer = (option: ImpairmentOption) => string;
const byKey: OptionNamer = (option) => IMPAIRMENT_KEYS[option];

/**
 * Fills in defaults and checks every option (numbers, or strings from a command line),
 * then the ones that depend on each other. Throws `NetsimOptionsError` listing every issue.
 */
export function resolveImpairmentOptions(
  given: Partial<Record<keyof ImpairmentOptions, unknown>>,
  drawSeed: () => number,
  name: OptionNamer = byKey,
): ImpairmentOptions {
  const issues: OptionIssue[] = [];
  const values: Partial<Record<keyof ImpairmentOptions, number>> = {};
  for (const [option, def] of Object.entries(IMPAIRMENT_OPTIONS) as [
    ImpairmentOption,
    (typeof IMPAIRMENT_OPTIONS)[ImpairmentOption],
  ][]) {
    const key = IMPAIRMENT_KEYS[option];
    const result = def.schema.safeParse(given[key] ?? def.default);
    if (!result.success)
      issues.push(...result.error.issues.map((issue) => ({ path: name(option), message: issue.message })));
    else values[key] = result.data ?? drawSeed();
  }
  const options = values as ImpairmentOptions;
  if (issues.length === 0) issues.push(...crossCheck(options, name));
  if (issues.length > 0) throw new NetsimOptionsError(issues);
  return options;
}

function crossCheck(options: ImpairmentOptions, name: OptionNamer): OptionIssue[] {
  const issues: OptionIssue[] = [];
  const { burst, loss, lossGood } = options;
  if (burst > 0 && burst < 1) {
    issues.push({ path: name("burst"), message: `got ${burst}, use 0 (independent losses) or at least 1` });
  } else if (lossGood > 0 && burst === 0) {
    issues.push({
      path: name("lossGood"),
      message: `got ${lossGood}, it is the loss between bursts: give ${name("burst")} too (1 or more)`,
    });
  } else if (lossGood > 0 && lossGood >= loss) {
    issues.push({
      path: name("lossGood"),
      message: `got ${lossGood}, use less than ${name("loss")} (${loss}), the mean over bursts and the time between them`,
    });
  } else if (burst >= 1 && loss < 1 && burst < badToGood(loss, lossGood)) {
    // The chain enters a burst with probability (loss - lossGood) / (1 - loss) / burst per fragment.
    const least = badToGood(loss, lossGood);
    const outside = lossGood > 0 ? ` (${lossGood} between bursts)` : "";
    issues.push({
      path: name("burst"),
      message: `got ${burst}, with a loss of ${loss}${outside} the mean burst length must be at least ${Number(least.toPrecision(3))}`,
    });
  }
  return issues;
}

/**
 * The Gilbert-Elliott chain's time in the bad state over its time in the good state, b / (1 - b),
 * where b = (loss - lossGood) / (1 - lossGood) keeps the long-run fragment loss at `loss`.
 */
export function badToGood(loss: number, lossGood: number): number {
  return (loss - lossGood) / (1 - loss);
}
