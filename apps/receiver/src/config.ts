import { isAbsolute, resolve } from "node:path";
import {
  checkLegacyKey,
  commonOptions,
  decimal,
  integer,
  loadConfig,
  oneOf,
  optional,
  renderHelp,
  resolveKey,
  text,
  type ConfigInput,
  type ConfigOf,
  type OptionTable,
  type ParsedConfig,
} from "@udpcam/appkit";

export const ENV_PREFIX = "RECEIVER";

export const receiverOptions = {
  host: { schema: text({ hint: "an IP address to listen on, like 0.0.0.0 or 127.0.0.1" }), default: "0.0.0.0", value: "ADDR", help: "address to listen on (0.0.0.0 = every interface)" },
  port: { ...commonOptions.port, help: "UDP port to listen on" },
  protocol: commonOptions.protocol,
  legacyMode: { schema: oneOf(["strict", "seed"] as const), default: "strict", value: "MODE", help: "legacy only: strict keeps only frames whose 20 parts all arrived; seed shows whatever the slots hold, torn or not" },
  output: { schema: text({ hint: "a file path, or none" }), default: "output.avi", value: "FILE", help: "recording (.avi, .mkv, .mp4 or .mov); none = do not record" },
  fourcc: { schema: text({ hint: "four characters like DIVX, MJPG or XVID", pattern: /^[ -~]{4}$/ }), default: "DIVX", value: "CODE", help: "recording codec (FourCC); MJPG into .avi stores JPEG streams as they arrive, with no re-encoding" },
  segmentSeconds: { schema: integer(0, 86_400), default: 0, value: "S", help: "start a new file every S seconds (output-000.avi, output-001.avi...) so a crash loses at most the last segment; 0 = one file" },
  streams: { schema: oneOf(["first", "separate"] as const), default: "first", value: "POLICY", help: "several senders at once: first records only the first stream and refuses others; separate records each to its own file (output-<stream id>.avi)" },
  display: { schema: oneOf(["auto", "on", "off"] as const), default: "auto", value: "MODE", help: "show frames in a window: auto = when a display exists" },
  frames: { schema: optional(integer(1, Number.MAX_SAFE_INTEGER)), default: undefined, value: "N", help: "stop after recording N frames" },
  idleExit: { schema: optional(decimal(0.1, 86_400)), default: undefined, value: "S", help: "stop after S seconds with no datagram, once one has arrived" },
  stats: commonOptions.stats,
  frameTimeout: { schema: integer(10, 60_000), default: 1_000, value: "MS", help: "give up on an incomplete frame after MS milliseconds" },
  maxFrameBytes: { schema: integer(1024, 1 << 30), default: 64 << 20, value: "BYTES", help: "refuse frames larger than this (memory bound)" },
  key: commonOptions.key,
  keyFile: commonOptions.keyFile,
  logLevel: commonOptions.logLevel,
  logFormat: commonOptions.logFormat,
} satisfies OptionTable;

export type ReceiverOptions = ConfigOf<typeof receiverOptions>;

export interface ReceiverConfig extends Omit<ReceiverOptions, "output" | "stats" | "keyFile"> {
  /** Absolute path, or undefined for no recording. */
  readonly output: string | undefined;
  readonly stats: string | undefined;
  /** The X display for the window, from DISPLAY and XAUTHORITY. */
  readonly x11: { readonly display: string | undefined; readonly xauthority: string | undefined };
}

export const receiverHelp = () =>
  renderHelp(receiverOptions, {
    usage: "pnpm --filter receiver start -- [options]",
    summary: "Receives frames from a udpcam sender (or the original Python client with --protocol legacy), shows them and records them.\nNever shows or records a torn frame.",
    envPrefix: ENV_PREFIX,
    footer: "Example: pnpm --filter receiver start -- --output camera.avi --display off --stats stats.json",
  });

export type ReceiverConfigResult = ParsedConfig<ReceiverConfig>;

/** argv + environment + config file in; a validated config or every problem out. */
export function parseReceiverConfig(input: ConfigInput & { readonly cwd: string }): ReceiverConfigResult {
  const loaded = loadConfig(receiverOptions, ENV_PREFIX, input);
  if (loaded.kind === "help") return { kind: "help", text: receiverHelp() };
  if (loaded.kind === "errors") return loaded;
  const { output, stats, keyFile, ...options } = loaded.config;
  const errors: string[] = [];

  const key = resolveKey({ key: options.key, keyFile }, input, errors);
  checkLegacyKey(options.protocol, key, errors);
  if (errors.length > 0) return { kind: "errors", errors };

  const absolute = (path: string) => (isAbsolute(path) ? path : resolve(input.cwd, path));
  return {
    kind: "ok",
    config: {
      ...options,
      key,
      output: output === "none" ? undefined : absolute(output),
      stats: stats === undefined ? undefined : absolute(stats),
      x11: { display: input.env["DISPLAY"], xauthority: input.env["XAUTHORITY"] },
    },
  };
}
