/**
 * Option rows that the sender and the receiver share, written once: the wire
 * format, the UDP port, the shared key, the stats file and logging.
 */
import { MIN_KEY_LENGTH, MIN_PASSPHRASE_LENGTH, type KeySpec } from "./key.js";
import type { OptionTable } from "./load.js";
import { LOG_LEVELS } from "../logger.js";
import { integer, oneOf, optional, text } from "./values.js";
import { IPV4_ADDRESS } from "../ipv4.js";

export const DEFAULT_PORT = 9505;

export const commonOptions = {
  port: { schema: integer(1, 65535), default: DEFAULT_PORT, value: "N", help: "UDP port: where the receiver listens" },
  protocol: {
    schema: oneOf(["v1", "legacy", "rtp"] as const),
    default: "v1",
    value: "NAME",
    help: "v1 (ours), legacy (the original scripts' 20 x 46,081-byte datagrams, 640x480 raw only) or rtp (RTP/JPEG, RFC 2435: what GStreamer, ffmpeg and VLC speak; no FEC, no key)",
  },
  key: {
    schema: optional(
      text({
        hint: `a shared secret of at least ${MIN_KEY_LENGTH} characters`,
        pattern: new RegExp(`^.{${MIN_KEY_LENGTH},}$`, "s"),
      }),
    ),
    default: undefined,
    value: "SECRET",
    secret: true,
    help: "shared key (v1 only): every datagram is encrypted and authenticated (see --encrypt), and only those made with the same key are accepted; prefer --key-file or the environment",
  },
  keyFile: {
    schema: optional(text()),
    default: undefined,
    value: "FILE",
    help: "read the shared key from this file (SIGHUP reads it again)",
  },
  passphrase: {
    schema: optional(
      text({
        hint: `a passphrase of at least ${MIN_PASSPHRASE_LENGTH} characters`,
        pattern: new RegExp(`^.{${MIN_PASSPHRASE_LENGTH},}$`, "s"),
      }),
    ),
    default: undefined,
    value: "TEXT",
    secret: true,
    help: "instead of --key: a passphrase, stretched to the key with scrypt once at start; prefer --passphrase-file or the environment",
  },
  passphraseFile: {
    schema: optional(text()),
    default: undefined,
    value: "FILE",
    help: "read the passphrase from this file (SIGHUP reads it again)",
  },
  encrypt: {
    schema: oneOf(["on", "off"] as const),
    default: "on",
    value: "MODE",
    help: "with a key or passphrase: on = payloads encrypted (ChaCha20-Poly1305) and authenticated; off = authenticated only (HMAC-SHA-256, the video in the clear), for peers older than encryption",
  },
  stats: {
    schema: optional(text()),
    default: undefined,
    value: "FILE",
    help: "write the final counters as JSON to this file when stopping",
  },
  logLevel: {
    schema: oneOf(LOG_LEVELS),
    default: "info",
    value: "LEVEL",
    help: `log detail: ${LOG_LEVELS.join(", ")}`,
  },
  logFormat: {
    schema: oneOf(["pretty", "json"] as const),
    default: "pretty",
    value: "FORMAT",
    help: "pretty (for people) or json (one object a line)",
  },
  multicastInterface: {
    schema: optional(text({ hint: "an IPv4 address of this machine, like 192.0.2.5", pattern: IPV4_ADDRESS })),
    default: undefined,
    value: "ADDR",
    help: "multicast only: the interface (by its IPv4 address) the group is used on; default: the one the routing table picks",
  },
} satisfies OptionTable;

/** The legacy and RTP formats have no room for a tag: a key or passphrase with them is a mistake on either side. */
export function checkLegacyKey(
  protocol: "v1" | "legacy" | "rtp",
  key: string | Pick<KeySpec, "kind"> | undefined,
  errors: string[],
): void {
  if (protocol !== "v1" && key !== undefined) {
    const flag = typeof key === "string" || key.kind === "key" ? "--key" : "--passphrase";
    errors.push(
      `${flag}: the ${protocol === "rtp" ? "RTP/JPEG" : "legacy"} protocol has no room for an authentication tag, use --protocol v1 or drop the ${flag === "--key" ? "key" : "passphrase"}`,
    );
  }
}
