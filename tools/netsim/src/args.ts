// netsim's command line, read by appkit's loader as the apps read theirs: defaults <
// --config file < NETSIM_* environment < flags, every problem as `--flag: what is wrong`.
import {
  decimal,
  flagName,
  integer,
  Invalid,
  loadConfig,
  optional,
  renderHelp,
  text,
  type ConfigInput,
  valueSchema,
  type OptionTable,
} from "@udpcam/appkit";
import { DEFAULT_SOCKET_BUFFER_BYTES, type Endpoint, type NetsimOptions } from "./netsim.js";
import {
  IMPAIRMENT_KEYS,
  IMPAIRMENT_OPTIONS,
  type ImpairmentOption,
  type ImpairmentOptions,
  NetsimOptionsError,
  resolveImpairmentOptions,
} from "./options.js";

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

const ENV_PREFIX = "NETSIM";
const DEFAULT_LISTEN = "127.0.0.1:9600";
const MAX_SECONDS = 31_536_000;

/** `HOST:PORT` or `[V6]:PORT` as an option value; an unset one is refused as required. */
function endpoint() {
  return valueSchema((raw): Endpoint | Invalid => {
    const parsed =
      raw === undefined
        ? "required, as HOST:PORT (e.g. 127.0.0.1:9505)"
        : parseEndpoint(typeof raw === "string" ? raw : JSON.stringify(raw));
    return typeof parsed === "string" ? new Invalid(parsed) : parsed;
  });
}

const CLI_OPTIONS = {
  listen: {
    schema: endpoint(),
    default: DEFAULT_LISTEN,
    value: "HOST:PORT",
    help: "address to receive on; port 0 picks one",
  },
  target: {
    schema: endpoint(),
    default: undefined,
    value: "HOST:PORT",
    help: "where to forward datagrams (required); replies go back to the last sender",
  },
  ...IMPAIRMENT_OPTIONS,
  buffer: {
    schema: integer(0, 1 << 30),
    default: DEFAULT_SOCKET_BUFFER_BYTES,
    value: "BYTES",
    help: "socket receive/send buffer size to ask for (the kernel may grant less: net.core.rmem_max)",
  },
  duration: {
    schema: optional(decimal(0, MAX_SECONDS)),
    default: undefined,
    value: "S",
    help: "stop after S seconds and print the stats (unset: run until SIGINT/SIGTERM)",
  },
  idleExit: {
    schema: optional(decimal(0, MAX_SECONDS)),
    default: undefined,
    value: "S",
    help: "stop after S seconds with no datagram in (unset: never)",
  },
  stats: {
    schema: optional(text({ hint: "a file name" })),
    default: undefined,
    value: "FILE",
    help: "also write the final stats JSON to FILE",
  },
} satisfies OptionTable;

/** Reads the command line (without node and the script; a leading `--` from pnpm is skipped). */
export function parseCli(
  argv: readonly string[],
  env: ConfigInput["env"] = {},
  readFile: ConfigInput["readFile"] = noConfigFile,
): CliRequest {
  const result = loadConfig(CLI_OPTIONS, ENV_PREFIX, { argv, env, readFile });
  if (result.kind === "help") return { kind: "help" };
  if (result.kind === "errors") return { kind: "error", messages: result.errors };
  const { config } = result;

  // Ranges are checked; what is left is the options that depend on each other (--burst and --loss).
  const given = Object.fromEntries(
    Object.keys(IMPAIRMENT_OPTIONS).map((option) => [
      IMPAIRMENT_KEYS[option as ImpairmentOption],
      config[option as ImpairmentOption],
    ]),
  );
  let impairment: ImpairmentOptions;
  try {
    impairment = resolveImpairmentOptions(
      given,
      () => 0,
      (option) => `--${flagName(option)}`,
    );
  } catch (error) {
    if (!(error instanceof NetsimOptionsError)) throw error;
    return { kind: "error", messages: error.issues.map((issue) => `${issue.path}: ${issue.message}`) };
  }
  // The seed stays unset when not given, so that each run draws its own.
  const netsim: NetsimOptions = {
    ...impairment,
    seed: config.seed,
    listen: config.listen,
    target: config.target,
    socketBufferBytes: config.buffer,
  };
  return {
    kind: "run",
    config: { netsim, durationS: config.duration, idleExitS: config.idleExit, statsFile: config.stats },
  };
}

function noConfigFile(path: string): string {
  throw new Error(`no config file can be read here (${path})`);
}

/** `HOST:PORT`, or `[V6]:PORT`; port 0 only where `listen` allows it (the caller's check). */
export function parseEndpoint(raw: string): Endpoint | string {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(raw);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (host === undefined || !(port >= 0 && port <= 65_535))
    return `got ${JSON.stringify(raw)}, use HOST:PORT with a port from 0 to 65535`;
  return { host, port };
}

/** The `--help` text: every option with its environment variable and default. */
export function helpText(): string {
  return renderHelp(CLI_OPTIONS, {
    usage: "netsim --target HOST:PORT [--listen HOST:PORT] [options]",
    summary: [
      "netsim: a UDP impairment proxy. Datagrams to --listen go to --target, impaired as asked;",
      "at exit (SIGINT, SIGTERM, --duration, --idle-exit) it prints its counters as JSON on stdout.",
      "Probabilities P are 0 to 1; --loss is per 20+8-byte-header IPv4 fragment at --mtu.",
    ].join("\n"),
    envPrefix: ENV_PREFIX,
  });
}
