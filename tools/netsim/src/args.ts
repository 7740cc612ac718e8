import { type ParseArgsConfig, parseArgs } from "node:util";
import { IMPAIRMENT_SPECS, type ImpairmentOptions, NetsimOptionsError, type NumberSpec, readNumber, resolveImpairmentOptions } from "./options.js";
import type { Endpoint, NetsimOptions } from "./netsim.js";

/** What the command line asks for: help, a run, or the reasons it cannot be run. */
export type CliRequest =
  | { readonly kind: "help" }
  | { readonly kind: "run"; readonly config: CliConfig }
  | { readonly kind: "error"; readonly messages: readonly string[] };

export interface CliConfig {
  readonly netsim: NetsimOptions;
  /** Stop after this many seconds. */
  readonly durationS: number | undefined;
  /** Stop after this many seconds without a datagram in (counted from the start until the first one). */
  readonly idleExitS: number | undefined;
  /** Also write the final stats JSON here. */
  readonly statsFile: string | undefined;
}

const seconds = (flag: string, help: string): NumberSpec => ({
  key: flag.slice(2),
  flag,
  valueName: "S",
  min: 0,
  max: 31_536_000,
  integer: false,
  defaultValue: undefined,
  help,
});
const DURATION = seconds("--duration", "stop after S seconds and print the stats (default: run until SIGINT/SIGTERM)");
const IDLE_EXIT = seconds("--idle-exit", "stop after S seconds with no datagram in (default: never)");
const BUFFER: NumberSpec = {
  key: "buffer",
  flag: "--buffer",
  valueName: "BYTES",
  min: 0,
  max: 1 << 30,
  integer: true,
  defaultValue: 8 * 1024 * 1024,
  help: "socket receive/send buffer size to ask for (the kernel may grant less: net.core.rmem_max)",
};
const NUMBER_SPECS: readonly NumberSpec[] = [...IMPAIRMENT_SPECS, BUFFER, DURATION, IDLE_EXIT];
const DEFAULT_LISTEN = "127.0.0.1:9600";

const PARSE_OPTIONS = {
  help: { type: "boolean", short: "h" },
  listen: { type: "string" },
  target: { type: "string" },
  stats: { type: "string" },
  ...Object.fromEntries(NUMBER_SPECS.map((spec) => [spec.flag.slice(2), { type: "string" }])),
} as const satisfies ParseArgsConfig["options"];

/** Reads the command line (without node and the script; a leading `--` from pnpm is skipped). */
export function parseCli(argv: readonly string[]): CliRequest {
  const args = joinNegativeValues(argv[0] === "--" ? argv.slice(1) : argv);
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args, options: PARSE_OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    return { kind: "error", messages: [describeParseError(error)] };
  }
  if (values.help === true) return { kind: "help" };

  const messages: string[] = [];
  const string = (name: string): string | undefined => {
    const value = values[name];
    return typeof value === "string" ? value : undefined;
  };
  const endpoint = (flag: string, raw: string | undefined): Endpoint | undefined => {
    if (raw === undefined) return undefined;
    const parsed = parseEndpoint(raw);
    if (typeof parsed === "string") messages.push(`${flag}: ${parsed}`);
    return typeof parsed === "string" ? undefined : parsed;
  };
  const number = (spec: NumberSpec): number | undefined => {
    const raw = string(spec.flag.slice(2));
    if (raw === undefined) return undefined;
    const value = readNumber(spec, raw);
    if (typeof value === "number") return value;
    messages.push(`${spec.flag}: ${value.message}`);
    return undefined;
  };

  const listen = endpoint("--listen", string("listen") ?? DEFAULT_LISTEN);
  const target = endpoint("--target", string("target"));
  if (string("target") === undefined) messages.push("--target: required, as HOST:PORT (e.g. 127.0.0.1:9505)");
  const impairment = readImpairment((spec) => string(spec.flag.slice(2)), messages);
  const bufferBytes = number(BUFFER);
  const durationS = number(DURATION);
  const idleExitS = number(IDLE_EXIT);
  const statsFile = string("stats");
  if (statsFile === "") messages.push('--stats: must be a file name, got ""');
  if (messages.length > 0 || target === undefined || listen === undefined) return { kind: "error", messages };

  const netsim: NetsimOptions = { ...impairment, listen, target, socketBufferBytes: bufferBytes ?? BUFFER.defaultValue };
  return { kind: "run", config: { netsim, durationS, idleExitS, statsFile } };
}

/** `HOST:PORT`, or `[V6]:PORT`; port 0 only where `listen` allows it (the caller's check). */
export function parseEndpoint(raw: string): Endpoint | string {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(raw);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (host === undefined || !(port >= 0 && port <= 65_535)) {
    return `must be HOST:PORT with a port from 0 to 65535, got ${JSON.stringify(raw)}`;
  }
  return { host, port };
}

/**
 * The impairment flags, checked by the library's own rules and reported by flag
 * (`--loss: must be ...`). The seed stays unset when not given, so each run draws its own.
 */
function readImpairment(raw: (spec: NumberSpec) => string | undefined, messages: string[]): Partial<ImpairmentOptions> {
  const given = Object.fromEntries(IMPAIRMENT_SPECS.map((spec) => [spec.key, raw(spec)]));
  try {
    const resolved = resolveImpairmentOptions(given, () => 0, (spec) => spec.flag);
    return given.seed === undefined ? { ...resolved, seed: undefined } : resolved;
  } catch (error) {
    if (!(error instanceof NetsimOptionsError)) throw error;
    messages.push(...error.issues.map((issue) => `${issue.path}: ${issue.message}`));
    return {};
  }
}

/**
 * `--delay -1` -> `--delay=-1`: parseArgs takes a value starting with "-" for a flag and
 * refuses it, which would hide the real problem (a negative number) behind "needs a value".
 */
function joinNegativeValues(args: readonly string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    const takesValue = arg.startsWith("--") && PARSE_OPTIONS[arg.slice(2) as keyof typeof PARSE_OPTIONS]?.type === "string";
    if (takesValue && next !== undefined && /^-[\d.]/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

function describeParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  const option = /'(-[^' ]+)/.exec(message)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && option !== undefined) return `${option}: unknown option (netsim --help lists them)`;
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && option !== undefined) return `${option}: needs a value`;
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") return `${message.replace(/\.$/, "")} (every argument is a --flag; netsim --help lists them)`;
  return message;
}

/** The `--help` text: every option with its default. */
export function helpText(): string {
  const rows: [string, string][] = [
    ["--listen HOST:PORT", `address to receive on; port 0 picks one (default ${DEFAULT_LISTEN})`],
    ["--target HOST:PORT", "where to forward datagrams (required); replies go back to the last sender"],
    ...NUMBER_SPECS.map((spec): [string, string] => [
      `${spec.flag} ${spec.valueName}`,
      spec.defaultValue === undefined ? spec.help : `${spec.help} (default ${spec.defaultValue})`,
    ]),
    ["--stats FILE", "also write the final stats JSON to FILE"],
    ["-h, --help", "print this help"],
  ];
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return [
    "netsim: a UDP impairment proxy. Datagrams to --listen go to --target, impaired as asked;",
    "at exit (SIGINT, SIGTERM, --duration, --idle-exit) it prints its counters as JSON on stdout.",
    "Probabilities P are 0 to 1; --loss is per 20+8-byte-header IPv4 fragment at --mtu.",
    "",
    "Usage: netsim --target HOST:PORT [--listen HOST:PORT] [options]",
    "",
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`),
    "",
  ].join("\n");
}
