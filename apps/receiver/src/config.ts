import { isAbsolute, resolve } from "node:path";
import {
  IPV4_ADDRESS,
  checkLegacyKey,
  isMulticastIpv4,
  commonOptions,
  decimal,
  integer,
  loadConfig,
  oneOf,
  optional,
  renderHelp,
  resolveKeySpec,
  type KeySpec,
  flag,
  text,
  type ConfigInput,
  type ConfigOf,
  type OptionTable,
  type ParsedConfig,
} from "@udpcam/appkit";
import { DEFAULT_FRAME_TIMEOUT_MS, DEFAULT_LATENCY_MS, DEFAULT_MAX_FRAME_BYTES } from "@udpcam/protocol";

/**
 * --max-streams: a small recording server's worth (8-channel NVRs are the common small size; the
 * reassembler tracked 8 streams before there was an option), and few enough open files and
 * encoders that a flood of forged streams costs little. Half of it per source address.
 */
export const DEFAULT_MAX_STREAMS = 8;

/**
 * --receive-buffer: room for what arrives while the receiver is busy, and for the original client's whole raw frame
 * (921,600 bytes, sent at once) several times over. Linux grants at most net.core.rmem_max.
 */
export const DEFAULT_RECEIVE_BUFFER_BYTES = 8 << 20;

/**
 * --max-clock-skew: how far a sender's clock may be behind the receiver's. NTP keeps hosts within
 * milliseconds; 5 s also covers a host synced by hand, and is how much of a session just before a
 * restart a replay may bring in again.
 */
export const DEFAULT_MAX_CLOCK_SKEW_S = 5;
import { parseRelaySettings, type RelaySettings } from "./config-relay.js";

export const ENV_PREFIX = "RECEIVER";
/** How long the previous key is still accepted after a rotation: time to rotate the senders too. */
export const DEFAULT_KEY_GRACE_SECONDS = 300;

export const receiverOptions = {
  host: {
    schema: text({ hint: "an IP address to listen on, like 0.0.0.0 or 127.0.0.1" }),
    default: "0.0.0.0",
    value: "ADDR",
    help: "address to listen on (0.0.0.0 = every interface), or a multicast group to join (e.g. 239.255.0.1)",
  },
  multicastInterface: {
    ...commonOptions.multicastInterface,
    help: "multicast only: join the group on the interface with this IPv4 address; default: the one the route to the group picks",
  },
  sourceAddress: {
    schema: optional(text({ hint: "the sender's IPv4 address, like 192.0.2.10", pattern: IPV4_ADDRESS })),
    default: undefined,
    value: "ADDR",
    help: "multicast only: a source-specific join (SSM, IGMPv3): take the group's datagrams from this sender only",
  },
  port: { ...commonOptions.port, help: "UDP port to listen on" },
  protocol: commonOptions.protocol,
  legacyMode: {
    schema: oneOf(["strict", "seed"] as const),
    default: "strict",
    value: "MODE",
    help: "legacy only: strict keeps only frames whose 20 parts all arrived; seed shows whatever the slots hold, torn or not",
  },
  output: {
    schema: text({ hint: "a file path, or none" }),
    default: "output.avi",
    value: "FILE",
    help: "recording (.avi, .mkv, .mp4 or .mov); none = do not record",
  },
  fourcc: {
    schema: text({ hint: "auto, or four characters like DIVX, MJPG or XVID", pattern: /^(auto|[ -~]{4})$/ }),
    default: "auto",
    value: "CODE",
    help: "recording codec (FourCC); auto = MJPG for JPEG streams (into .avi stored as they arrive, no re-encoding), DIVX for raw ones like the original server",
  },
  segmentSeconds: {
    schema: integer(0, 86_400),
    default: 0,
    value: "S",
    help: "start a new file every S seconds (output-000.avi, output-001.avi...) so a crash loses at most the last segment; 0 = one file",
  },
  streams: {
    schema: oneOf(["first", "separate"] as const),
    default: "first",
    value: "POLICY",
    help: "several senders at once: first records only the first stream and refuses others; separate records each to its own file (output-<stream id>.avi)",
  },
  maxStreams: {
    schema: integer(1, 1024),
    default: DEFAULT_MAX_STREAMS,
    value: "N",
    help: "streams taken at once: tracked while they arrive and, with --streams separate, recorded (one open file each); a new stream waits until one has been silent 2 s",
  },
  maxStreamsPerSource: {
    schema: optional(integer(1, 1024)),
    default: undefined,
    value: "N",
    help: "streams one source address may have tracked at once (default: half of --max-streams, at least 1), so that one host, or a flood of forged stream ids from it, cannot take every place",
  },
  display: {
    schema: oneOf(["auto", "on", "off"] as const),
    default: "auto",
    value: "MODE",
    help: "show frames in a window: auto = when a display exists",
  },
  socketReader: {
    schema: oneOf(["auto", "dgram"] as const),
    default: "auto",
    value: "READER",
    help: "who reads the UDP socket: auto = the native batch reader (recvmmsg) where it can run, else Node's dgram; dgram = Node's dgram always (more CPU a datagram; to rule the native reader out)",
  },
  frames: {
    schema: optional(integer(1, Number.MAX_SAFE_INTEGER)),
    default: undefined,
    value: "N",
    help: "stop after recording N frames",
  },
  idleExit: {
    schema: optional(decimal(0.1, 86_400)),
    default: undefined,
    value: "S",
    help: "stop after S seconds with no datagram, once one has arrived",
  },
  stats: commonOptions.stats,
  frameTimeout: {
    schema: integer(10, 60_000),
    default: DEFAULT_FRAME_TIMEOUT_MS,
    value: "MS",
    help: "give up on an incomplete frame after MS milliseconds",
  },
  latency: {
    schema: integer(10, 10_000),
    default: DEFAULT_LATENCY_MS,
    value: "MS",
    help: "window FEC streams and --nack on: frames go out in order, each waiting at most MS ms for an older one being rebuilt or resent; past it the older frame is dropped (counted), never shown torn",
  },
  nack: {
    schema: oneOf(["off", "on"] as const),
    default: "off",
    value: "MODE",
    help: "v1: on = ask the sender (started with --nack on) for missing datagrams once the reorder window has passed, on this socket back to where the stream comes from, retried within --latency; frames go out in order, each waiting at most --latency for an older one. Off by default: a sender that does not listen would get traffic it never asked for",
  },
  maxFrameBytes: {
    schema: integer(1024, 1 << 30),
    default: DEFAULT_MAX_FRAME_BYTES,
    value: "BYTES",
    help: "refuse frames larger than this (memory bound)",
  },
  receiveBuffer: {
    schema: optional(integer(64 * 1024, 1 << 30)),
    default: undefined,
    value: "BYTES",
    help: `ask the kernel for a socket receive buffer this large (unset: ${DEFAULT_RECEIVE_BUFFER_BYTES}, quietly capped; a size given here that net.core.rmem_max caps is warned about; the size granted is logged): what arrives while the receiver is busy waits there`,
  },
  http: {
    schema: optional(text({ hint: "[HOST:]PORT, like 8080 or 0.0.0.0:8080" })),
    default: undefined,
    value: "[HOST:]PORT",
    help: "serve a live view in the browser, /metrics and /healthz on this port (HOST default 127.0.0.1); off by default",
  },
  httpToken: {
    schema: optional(text({ hint: "a non-empty text" })),
    default: undefined,
    value: "TOKEN",
    help: "viewers must send this as a bearer token or ?token=; needed (or --http-insecure) to bind an address other than loopback",
    secret: true,
  },
  httpInsecure: {
    schema: flag(),
    default: false,
    isSwitch: true,
    help: "allow --http on a non-loopback address without a token (anyone who reaches it sees the video)",
  },
  httpQuality: {
    schema: integer(1, 100),
    default: 80,
    value: "Q",
    help: "JPEG quality of raw (BGR) streams encoded for viewers",
  },
  relay: {
    schema: optional(text({ hint: "rtp://HOST:PORT, like rtp://127.0.0.1:5004" })),
    default: undefined,
    value: "rtp://HOST:PORT",
    help: "re-emit every delivered JPEG frame as RTP/JPEG (RFC 2435) to HOST:PORT (unicast or a multicast group), for ffplay, VLC, GStreamer or a media server; skips whole frames when it cannot keep up",
  },
  relaySdp: {
    schema: optional(text({ hint: "a file path" })),
    default: undefined,
    value: "FILE",
    help: "write the relay's session description (SDP) here, for players to open",
  },
  key: commonOptions.key,
  keyFile: commonOptions.keyFile,
  passphrase: commonOptions.passphrase,
  passphraseFile: commonOptions.passphraseFile,
  encrypt: {
    ...commonOptions.encrypt,
    help: "with a key or passphrase: on = accept only encrypted datagrams; off = accept authenticated-only ones (HMAC-SHA-256, from senders with --encrypt off or older than encryption) as well as encrypted ones",
  },
  keyGrace: {
    schema: decimal(0, 86_400),
    default: DEFAULT_KEY_GRACE_SECONDS,
    value: "S",
    help: "when SIGHUP rereads a changed --key-file or --passphrase-file, keep accepting the previous key for S seconds, so the sender can be rotated after the receiver without losing a frame",
  },
  maxClockSkew: {
    schema: text({ hint: "seconds, like 5 or 0.5, or off", pattern: /^(off|\d{1,9}(\.\d+)?)$/ }),
    default: String(DEFAULT_MAX_CLOCK_SKEW_S),
    value: "S",
    help: "with a key: refuse datagrams captured (by the sender's clock) more than S seconds before this receiver started, so a recorded session replayed after a restart is not taken again; the senders' clocks must not be behind this one's by more than S (NTP keeps them within milliseconds); off = take them",
  },
  logLevel: commonOptions.logLevel,
  logFormat: commonOptions.logFormat,
} satisfies OptionTable;

export type ReceiverOptions = ConfigOf<typeof receiverOptions>;

/** The live view's HTTP server (--http and its options). */
export interface HttpSettings {
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
  /** JPEG quality for raw streams. */
  readonly quality: number;
}

export interface ReceiverConfig extends Omit<
  ReceiverOptions,
  | "output"
  | "stats"
  | "key"
  | "keyFile"
  | "passphrase"
  | "passphraseFile"
  | "http"
  | "httpToken"
  | "httpInsecure"
  | "httpQuality"
  | "relay"
  | "relaySdp"
  | "maxStreamsPerSource"
  | "maxClockSkew"
> {
  /** --max-clock-skew in seconds; undefined = off. Used only with a key. */
  readonly maxClockSkew: number | undefined;
  /** --max-streams-per-source, or its default (half of --max-streams, at least 1). */
  readonly maxStreamsPerSource: number;
  /** The shared key or passphrase, and the file it came from (SIGHUP reads it again). */
  readonly key: KeySpec | undefined;
  /** Undefined unless --relay is given. */
  readonly relay: RelaySettings | undefined;
  /** Absolute path, or undefined for no recording. */
  readonly output: string | undefined;
  readonly stats: string | undefined;
  /** Undefined unless --http is given. */
  readonly http: HttpSettings | undefined;
  /** The X display for the window, from DISPLAY and XAUTHORITY. */
  readonly x11: { readonly display: string | undefined; readonly xauthority: string | undefined };
}

export const receiverHelp = () =>
  renderHelp(receiverOptions, {
    usage: "pnpm --filter receiver start -- [options]",
    summary:
      "Receives frames from a udpcam sender (or the original Python client with --protocol legacy, or RTP/JPEG from GStreamer\nor ffmpeg with --protocol rtp), shows them and records them. Never shows or records a torn frame.",
    envPrefix: ENV_PREFIX,
    footer: "Example: pnpm --filter receiver start -- --output camera.avi --display off --stats stats.json",
  });

export type ReceiverConfigResult = ParsedConfig<ReceiverConfig>;

/** argv + environment + config file in; a validated config or every problem out. */
export function parseReceiverConfig(input: ConfigInput & { readonly cwd: string }): ReceiverConfigResult {
  const loaded = loadConfig(receiverOptions, ENV_PREFIX, input);
  if (loaded.kind === "help") return { kind: "help", text: receiverHelp() };
  if (loaded.kind === "errors") return loaded;
  const {
    output,
    stats,
    key: rawKey,
    keyFile,
    passphrase,
    passphraseFile,
    http,
    httpToken,
    httpInsecure,
    httpQuality,
    relay,
    relaySdp,
    maxStreamsPerSource,
    maxClockSkew,
    ...options
  } = loaded.config;
  const errors: string[] = [];
  if (maxStreamsPerSource !== undefined && maxStreamsPerSource > options.maxStreams)
    errors.push(
      `--max-streams-per-source: ${maxStreamsPerSource} is more than --max-streams ${options.maxStreams}; lower it, or raise --max-streams`,
    );

  const key = resolveKeySpec({ key: rawKey, keyFile, passphrase, passphraseFile }, input, errors);
  checkLegacyKey(options.protocol, key, errors);
  checkMulticastOptions(options, errors);
  if (options.nack === "on" && options.protocol !== "v1")
    errors.push(`--nack: retransmission on request is part of --protocol v1, drop --nack or use --protocol v1`);
  const httpSettings =
    http === undefined
      ? undefined
      : parseHttpSettings(http, { token: httpToken, insecure: httpInsecure, quality: httpQuality }, errors);
  const relaySettings = parseRelaySettings(relay, relaySdp, input.cwd, errors);
  if (errors.length > 0) return { kind: "errors", errors };

  const absolute = (path: string) => (isAbsolute(path) ? path : resolve(input.cwd, path));
  return {
    kind: "ok",
    config: {
      ...options,
      maxStreamsPerSource: maxStreamsPerSource ?? Math.max(1, Math.floor(options.maxStreams / 2)),
      maxClockSkew: maxClockSkew === "off" ? undefined : Number(maxClockSkew),
      key,
      output: output === "none" ? undefined : absolute(output),
      stats: stats === undefined ? undefined : absolute(stats),
      http: httpSettings,
      relay: relaySettings,
      x11: { display: input.env["DISPLAY"], xauthority: input.env["XAUTHORITY"] },
    },
  };
}

/** The multicast options need a group in --host; a group needs an IPv4 address. */
function checkMulticastOptions(
  options: Pick<ReceiverOptions, "host" | "multicastInterface" | "sourceAddress">,
  errors: string[],
): void {
  if (isMulticastIpv4(options.host)) return;
  for (const [flag, value] of [
    ["--multicast-interface", options.multicastInterface],
    ["--source-address", options.sourceAddress],
  ] as const) {
    if (value !== undefined)
      errors.push(
        `${flag}: only with a multicast group in --host (224.0.0.0 to 239.255.255.255), got --host ${options.host}`,
      );
  }
}

/** Loopback addresses: the only ones --http binds without a token or --http-insecure. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

/** `[HOST:]PORT` (HOST may be `[v6]`) and its companions, or undefined with the problems pushed to `errors`. */
export function parseHttpSettings(
  spec: string,
  options: { readonly token: string | undefined; readonly insecure: boolean; readonly quality: number },
  errors: string[],
): HttpSettings | undefined {
  const match = /^(?:(?:\[([^\]]+)\]|([^:[\]]+)):)?(\d{1,5})$/.exec(spec.trim());
  const port = Number(match?.[3]);
  if (match === null || port > 65_535) {
    errors.push(
      `--http: got ${JSON.stringify(spec)}, use [HOST:]PORT like 8080, 127.0.0.1:8080 or [::1]:8080 (port 0 to 65535)`,
    );
    return undefined;
  }
  const host = match[1] ?? match[2] ?? "127.0.0.1";
  if (!isLoopbackHost(host) && options.token === undefined && !options.insecure) {
    errors.push(
      `--http ${spec}: binding ${host} (not loopback) shows the video to anyone who reaches it; set --http-token TOKEN, or --http-insecure to allow it without one`,
    );
    return undefined;
  }
  return { host, port, token: options.token, quality: options.quality };
}
