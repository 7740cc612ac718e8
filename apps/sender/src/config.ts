import { isAbsolute, resolve } from "node:path";
import {
  autoOr,
  checkLegacyKey,
  commonOptions,
  decimal,
  integer,
  loadConfig,
  oneOf,
  optional,
  renderHelp,
  resolveKeySpec,
  type KeySpec,
  text,
  type ConfigInput,
  type ConfigOf,
  type OptionTable,
  type ParsedConfig,
} from "@udpcam/appkit";
import {
  DEFAULT_LATENCY_MS,
  DEFAULT_MAX_DATAGRAM_BYTES,
  MAX_DATAGRAM_BYTES,
  MIN_DATAGRAM_BYTES,
} from "@udpcam/protocol";
// The URL rules alone: the config stays free of OpenCV.
import { isNetworkUrl } from "@udpcam/video/url";

export const ENV_PREFIX = "SENDER";

export const senderOptions = {
  source: {
    schema: text({ hint: "a camera index like 0, a video file path, rtsp://... or http(s)://..., or test" }),
    default: "0",
    value: "SRC",
    help: "camera index, video file, network camera (rtsp://HOST/PATH, or http(s)://... serving MJPEG), or test (the built-in test pattern)",
  },
  sourceTimeout: {
    schema: decimal(0.5, 600),
    default: 10,
    value: "S",
    help: "network cameras: give up opening after S seconds (exit 2); a camera silent this long mid-stream is reconnected",
  },
  jpegPassthrough: {
    schema: oneOf(["auto", "off"] as const),
    default: "auto",
    value: "MODE",
    help: "auto: with --codec jpeg and no resize, send a source's own JPEG bytes (MJPG file, MJPEG camera) with no decode and re-encode; off: decode and re-encode each frame at --quality (a JPEG source's own YCbCr samples, as GStreamer's jpegdec ! jpegenc)",
  },
  host: {
    schema: text({ hint: "a host name or IP address" }),
    default: "127.0.0.1",
    value: "HOST",
    help: "where the receiver listens, or a multicast group (224.0.0.0/4, e.g. 239.255.0.1) that any number of receivers join",
  },
  ttl: {
    schema: integer(1, 255),
    default: 1,
    value: "HOPS",
    help: "multicast only: routers a datagram to a group may cross (1 = this LAN only)",
  },
  multicastInterface: {
    ...commonOptions.multicastInterface,
    help: "multicast only: send to the group out of the interface with this IPv4 address; default: the one the route to the group picks",
  },
  port: { ...commonOptions.port, help: "the receiver's UDP port" },
  protocol: commonOptions.protocol,
  codec: {
    schema: oneOf(["raw", "jpeg"] as const),
    default: "raw",
    value: "NAME",
    help: "raw BGR pixels, or jpeg (v1; rtp always sends JPEG)",
  },
  quality: { schema: integer(1, 100), default: 80, value: "N", help: "JPEG quality" },
  width: {
    schema: optional(integer(16, 8192)),
    default: undefined,
    value: "PX",
    help: "resize frames to this width (test pattern: its width; default 640)",
  },
  height: {
    schema: optional(integer(16, 8192)),
    default: undefined,
    value: "PX",
    help: "resize frames to this height (test pattern: its height; default 480)",
  },
  fps: {
    schema: optional(decimal(0.1, 1000)),
    default: undefined,
    value: "N",
    help: "frames per second to send (default: the source's own rate; test pattern 25)",
  },
  frames: {
    schema: optional(integer(1, Number.MAX_SAFE_INTEGER)),
    default: undefined,
    value: "N",
    help: "stop after sending N frames",
  },
  datagramSize: {
    schema: autoOr(integer(MIN_DATAGRAM_BYTES, MAX_DATAGRAM_BYTES)),
    default: "auto",
    value: "BYTES",
    help: `largest datagram; auto = ${MAX_DATAGRAM_BYTES} to this machine, ${DEFAULT_MAX_DATAGRAM_BYTES} (no IP fragmentation on a 1500 MTU) elsewhere`,
  },
  fec: {
    schema: autoOr(decimal(0, 1)),
    default: "auto",
    value: "RATIO",
    help: "forward error correction overhead, e.g. 0.1 = one parity datagram per ten (v1 only; 0 = off); auto = 0.12 with window FEC, 0.1 per frame, for datagrams of one packet (none with --nack on); 0 for loopback-sized ones",
  },
  fecScheme: {
    schema: oneOf(["auto", "frame", "window"] as const),
    default: "auto",
    value: "SCHEME",
    help: "frame = parity per frame; window = repair datagrams over the last datagrams sent, across frames (survives loss in bursts, needs a receiver that knows flag W); auto = window for JPEG, frame for raw",
  },
  latency: {
    schema: integer(10, 10_000),
    default: DEFAULT_LATENCY_MS,
    value: "MS",
    help: "window FEC: repairs cover the datagrams of the last MS milliseconds; --nack on: what was sent is kept this long (match the receiver's --latency)",
  },
  nack: {
    schema: oneOf(["off", "on"] as const),
    default: "off",
    value: "MODE",
    help: "v1: on = keep what was sent for --latency ms (32 MiB at most) and send again, at once, what a receiver with --nack on asks for; NACKs must carry the key's tag when a key is set; at most a quarter of the stream is sent again. Waits --latency ms after the last frame for late requests",
  },
  key: commonOptions.key,
  keyFile: commonOptions.keyFile,
  passphrase: commonOptions.passphrase,
  passphraseFile: commonOptions.passphraseFile,
  encrypt: commonOptions.encrypt,
  stats: commonOptions.stats,
  sdp: {
    schema: optional(text({ hint: "a file path" })),
    default: undefined,
    value: "FILE",
    help: "rtp only: write the stream's session description here, for ffplay, ffmpeg -i, VLC or GStreamer's sdpdemux to open",
  },
  logLevel: commonOptions.logLevel,
  logFormat: commonOptions.logFormat,
} satisfies OptionTable;

export type SenderOptions = ConfigOf<typeof senderOptions>;

export type SourceSpec =
  | { readonly kind: "camera"; readonly index: number }
  | { readonly kind: "test" }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "network"; readonly url: string };

export interface SenderConfig extends Omit<
  SenderOptions,
  "source" | "key" | "keyFile" | "passphrase" | "passphraseFile" | "stats" | "sdp"
> {
  /** The shared key or passphrase, and the file it came from (SIGHUP reads it again). */
  readonly key: KeySpec | undefined;
  /** Absolute path of the SDP file to write (rtp only). */
  readonly sdp: string | undefined;
  readonly source: SourceSpec;
  readonly stats: string | undefined;
}

export const senderHelp = () =>
  renderHelp(senderOptions, {
    usage: "pnpm --filter sender start -- [options]",
    summary:
      "Reads frames from a camera, a video file or a test pattern and sends them over UDP to a udpcam receiver\n(or to the original Python server with --protocol legacy, or as RTP/JPEG to GStreamer, ffmpeg or VLC with --protocol rtp).",
    envPrefix: ENV_PREFIX,
    footer: "Example: pnpm --filter sender start -- --source test --codec jpeg --host 192.0.2.10",
  });

export type SenderConfigResult = ParsedConfig<SenderConfig>;

/** argv + environment + config file in; a validated config or every problem out. */
export function parseSenderConfig(input: ConfigInput & { readonly cwd: string }): SenderConfigResult {
  const loaded = loadConfig(senderOptions, ENV_PREFIX, input);
  if (loaded.kind === "help") return { kind: "help", text: senderHelp() };
  if (loaded.kind === "errors") return loaded;
  const { source, key: rawKey, keyFile, passphrase, passphraseFile, stats, ...options } = loaded.config;
  const errors: string[] = [];

  const key = resolveKeySpec({ key: rawKey, keyFile, passphrase, passphraseFile }, input, errors);
  checkLegacyKey(options.protocol, key, errors);
  if (options.protocol === "rtp" && options.fec !== "auto" && options.fec > 0)
    errors.push("--fec: RTP/JPEG carries no forward error correction, drop --fec or use --protocol v1");
  if (options.nack === "on" && options.protocol !== "v1")
    errors.push("--nack: retransmission on request is part of --protocol v1, drop --nack or use --protocol v1");
  if (options.protocol !== "rtp" && options.sdp !== undefined)
    errors.push("--sdp: a session description is for --protocol rtp, add it or drop --sdp");
  if (options.protocol === "legacy") {
    if (options.codec !== "raw")
      errors.push("--codec: the legacy protocol carries raw 640x480 frames only, use --codec raw or --protocol v1");
  }
  if ((options.width === undefined) !== (options.height === undefined)) {
    errors.push(`--${options.width === undefined ? "width" : "height"}: give --width and --height together`);
  }
  if (errors.length > 0) return { kind: "errors", errors };

  return {
    kind: "ok",
    config: {
      ...options,
      key,
      source: parseSource(source, input.cwd),
      stats: stats === undefined ? undefined : resolve(input.cwd, stats),
      sdp: options.sdp === undefined ? undefined : resolve(input.cwd, options.sdp),
    },
  };
}

function parseSource(source: string, cwd: string): SourceSpec {
  if (/^\d+$/.test(source)) return { kind: "camera", index: Number(source) };
  if (source === "test") return { kind: "test" };
  if (isNetworkUrl(source)) return { kind: "network", url: source.trim() };
  return { kind: "file", path: isAbsolute(source) ? source : resolve(cwd, source) };
}
