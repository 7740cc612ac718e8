import { MAX_IPV4_MTU, MIN_IPV4_MTU } from "./fragments.js";
import { MAX_SEED } from "./random.js";

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
}

/** A numeric option: its key, its CLI flag, its range and its default. Drives validation and `--help`. */
export interface NumberSpec<K extends string = string> {
  readonly key: K;
  readonly flag: string;
  readonly valueName: string;
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
  readonly defaultValue: number | undefined;
  readonly help: string;
}

const probability = <K extends string>(key: K, flag: string, help: string): NumberSpec<K> => ({
  key,
  flag,
  valueName: "P",
  min: 0,
  max: 1,
  integer: false,
  defaultValue: 0,
  help,
});

const milliseconds = <K extends string>(key: K, flag: string, defaultValue: number, help: string): NumberSpec<K> => ({
  key,
  flag,
  valueName: "MS",
  min: 0,
  max: 600_000,
  integer: false,
  defaultValue,
  help,
});

/** Every impairment option, in the order `--help` lists them. `seed` has no default: a random one is drawn. */
export const IMPAIRMENT_SPECS: readonly NumberSpec<keyof ImpairmentOptions>[] = [
  probability("loss", "--loss", "probability that one IP fragment is lost; a datagram is lost if any fragment is"),
  { key: "mtu", flag: "--mtu", valueName: "BYTES", min: MIN_IPV4_MTU, max: MAX_IPV4_MTU, integer: true, defaultValue: 1500, help: "link MTU: sets how many fragments a datagram takes" },
  { key: "burst", flag: "--burst", valueName: "N", min: 0, max: 1_000_000, integer: false, defaultValue: 0, help: "mean loss burst length in fragments (Gilbert model, same mean loss); 0 = independent" },
  probability("reorder", "--reorder", "probability that a datagram is held back"),
  { key: "reorderGap", flag: "--reorder-gap", valueName: "K", min: 1, max: 1_000_000, integer: true, defaultValue: 3, help: "a held datagram is released after K later datagrams..." },
  milliseconds("reorderMaxMs", "--reorder-max-ms", 50, "...or after this long, whichever comes first"),
  probability("duplicate", "--duplicate", "probability that a datagram is sent twice"),
  milliseconds("delayMs", "--delay", 0, "fixed one-way delay"),
  milliseconds("jitterMs", "--jitter", 0, "delay varies uniformly by up to this much either way (reorders by itself)"),
  probability("truncate", "--truncate", "probability that a datagram is cut to a random shorter length"),
  probability("garbage", "--garbage", "probability, per datagram in, of injecting a garbage datagram (random bytes or a mutated copy)"),
  { key: "rateMbit", flag: "--rate", valueName: "MBIT", min: 0, max: 1_000_000, integer: false, defaultValue: 0, help: "link rate in Mbit/s, headers included; 0 = unlimited" },
  milliseconds("queueMs", "--queue-ms", 100, "with --rate: drop a datagram that would wait longer than this for the link"),
  { key: "seed", flag: "--seed", valueName: "N", min: 0, max: MAX_SEED, integer: true, defaultValue: undefined, help: "seed of every random choice (default: random, reported in the stats)" },
];

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

/** What `spec` accepts, as the start of an error message: "must be a number between 0 and 1". */
export function describeRange(spec: NumberSpec): string {
  const kind = spec.integer ? "an integer" : "a number";
  return spec.max === Number.POSITIVE_INFINITY ? `must be ${kind} >= ${spec.min}` : `must be ${kind} between ${spec.min} and ${spec.max}`;
}

/**
 * Reads `raw` (a number, or a string from the command line) as the value of `spec`.
 * Returns the number, or the message saying why not, quoting what was given.
 */
export function readNumber(spec: NumberSpec, raw: unknown): number | { readonly message: string } {
  const value = typeof raw === "string" ? (raw.trim() === "" ? Number.NaN : Number(raw)) : raw;
  const ok =
    typeof value === "number" && Number.isFinite(value) && value >= spec.min && value <= spec.max && (!spec.integer || Number.isInteger(value));
  return ok ? value : { message: `${describeRange(spec)}, got ${typeof raw === "string" ? JSON.stringify(raw) : String(raw)}` };
}

/**
 * Fills in defaults and checks every option, then the ones that depend on each other.
 * `name` says how issues name an option: by key (library) or by flag (command line).
 * Throws `NetsimOptionsError` listing every issue.
 */
export function resolveImpairmentOptions(
  given: Partial<Record<keyof ImpairmentOptions, unknown>>,
  drawSeed: () => number,
  name: (spec: NumberSpec) => string = (spec) => spec.key,
): ImpairmentOptions {
  const issues: OptionIssue[] = [];
  const values: Partial<Record<keyof ImpairmentOptions, number>> = {};
  for (const spec of IMPAIRMENT_SPECS) {
    const raw = given[spec.key];
    if (raw === undefined) {
      values[spec.key] = spec.defaultValue ?? drawSeed();
      continue;
    }
    const value = readNumber(spec, raw);
    if (typeof value === "number") values[spec.key] = value;
    else issues.push({ path: name(spec), message: value.message });
  }
  const options = values as ImpairmentOptions;
  if (issues.length === 0) issues.push(...crossCheck(options, name));
  if (issues.length > 0) throw new NetsimOptionsError(issues);
  return options;
}

function crossCheck(options: ImpairmentOptions, name: (spec: NumberSpec) => string): OptionIssue[] {
  const issues: OptionIssue[] = [];
  const flag = (key: keyof ImpairmentOptions): string => name(specOf(key));
  const { burst, loss } = options;
  if (burst > 0 && burst < 1) {
    issues.push({ path: flag("burst"), message: `must be 0 (independent losses) or at least 1, got ${burst}` });
  } else if (burst >= 1 && loss < 1 && burst < loss / (1 - loss)) {
    // The Gilbert model enters a burst with probability loss / (1 - loss) / burst per fragment.
    const least = loss / (1 - loss);
    issues.push({ path: flag("burst"), message: `with a loss of ${loss} the mean burst length must be at least ${Number(least.toPrecision(3))}, got ${burst}` });
  }
  return issues;
}

function specOf(key: keyof ImpairmentOptions): NumberSpec {
  const spec = IMPAIRMENT_SPECS.find((candidate) => candidate.key === key);
  if (spec === undefined) throw new Error(`no spec for ${key}`);
  return spec;
}
