// The benchmark's command lines (its main and the dgram ceiling's child script), read by
// the same loader as the apps': defaults < --config file < BENCH_* environment < flags.
import { readFileSync } from "node:fs";
import { MAX_DATAGRAM_BYTES } from "@udpcam/protocol";
import {
  decimal,
  flag,
  integer,
  loadConfig,
  oneOf,
  renderHelp,
  type ConfigOf,
  type HelpText,
  type OptionTable,
} from "@udpcam/appkit";

const ENV_PREFIX = "BENCH";

export const BENCH_OPTIONS = {
  quick: {
    schema: flag(),
    default: false,
    isSwitch: true,
    help: "one run each and short clips, for development (figures not for comparison)",
  },
  profilesOnly: {
    schema: flag(),
    default: false,
    isSwitch: true,
    help: "only the CPU profiles of udpcam's apps, printed as Markdown; no file written",
  },
} satisfies OptionTable;

export const BENCH_HELP: HelpText = {
  usage: "node tools/bench/dist/main.js [--quick] [--profiles-only]",
  summary:
    "End-to-end benchmark: udpcam's sender and receiver against the original scripts, GStreamer RTP and Node's dgram ceiling,\n" +
    "same clip, same machine, same run; writes docs/benchmarks/end-to-end.md. A missed target is written down, the exit code stays 0.",
  envPrefix: ENV_PREFIX,
};

export const CEILING_OPTIONS = {
  mode: {
    schema: oneOf(["recv", "send"] as const),
    default: undefined,
    value: "recv|send",
    help: "count what arrives and print it as JSON, or send flat out",
  },
  port: { schema: integer(1, 65_535), default: undefined, value: "N", help: "UDP port on 127.0.0.1" },
  bytes: {
    schema: integer(1, MAX_DATAGRAM_BYTES),
    default: MAX_DATAGRAM_BYTES,
    value: "BYTES",
    help: "datagram size (send)",
  },
  seconds: { schema: decimal(0.1, 600), default: 2, value: "S", help: "how long to send, or to listen" },
} satisfies OptionTable;

export const CEILING_HELP: HelpText = {
  usage: "node tools/bench/dist/ceiling.js --mode recv|send --port N [--bytes BYTES] [--seconds S]",
  summary: "One side of the dgram ceiling: how many datagrams a second Node moves from one process to another.",
  envPrefix: ENV_PREFIX,
};

/**
 * The command line of an entry point, as the apps read theirs: --help prints the help and
 * exits 0; a bad flag prints one line per problem (`name: --flag: ...`) and exits 2.
 */
export function readCommandLine<T extends OptionTable>(name: string, table: T, help: HelpText): ConfigOf<T> {
  const result = loadConfig(table, ENV_PREFIX, {
    argv: process.argv.slice(2),
    env: process.env,
    readFile: (path) => readFileSync(path, "utf8"),
  });
  if (result.kind === "ok") return result.config;
  if (result.kind === "help") {
    process.stdout.write(renderHelp(table, help));
    process.exit(0);
  }
  for (const error of result.errors) process.stderr.write(`${name}: ${error}\n`);
  process.exit(2);
}

/** The command line of a benchmark whose one option is --quick (help `quickHelp`): whether it was given. */
export function readQuick(name: string, help: Omit<HelpText, "envPrefix">, quickHelp: string): boolean {
  const table = { quick: { schema: flag(), default: false, isSwitch: true, help: quickHelp } } satisfies OptionTable;
  return readCommandLine(name, table, { ...help, envPrefix: ENV_PREFIX }).quick;
}

export const LOOP_OPTIONS = {
  mode: {
    schema: oneOf(["recv", "send"] as const),
    default: undefined,
    value: "recv|send",
    help: "count what arrives until 1 s of silence and print it as JSON, or send",
  },
  port: { schema: integer(1, 65_535), default: undefined, value: "N", help: "UDP port on 127.0.0.1" },
  frames: { schema: integer(1, 1_000_000), default: 100, value: "N", help: "frames to send" },
  frameBytes: { schema: integer(1, 1 << 28), default: 921_600, value: "BYTES", help: "bytes of one frame" },
  bytes: {
    schema: integer(1, MAX_DATAGRAM_BYTES),
    default: MAX_DATAGRAM_BYTES,
    value: "BYTES",
    help: "datagram size",
  },
  fps: { schema: decimal(0.1, 100_000), default: 25, value: "N", help: "frames a second" },
} satisfies OptionTable;

export const LOOP_HELP: HelpText = {
  usage: "node tools/bench/dist/loop.js --mode recv|send --port N [--frames N] [--frame-bytes B] [--bytes D] [--fps R]",
  summary: "A bare dgram loop that only sends or only counts: what udpcam's per-datagram cost is held against.",
  envPrefix: ENV_PREFIX,
};
