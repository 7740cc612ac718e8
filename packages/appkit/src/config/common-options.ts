/**
 * Option rows that the sender and the receiver share, written once: the wire
 * format, the UDP port, the shared key, the stats file and logging.
 */
import { MIN_KEY_LENGTH } from "./key.js";
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
    help: "shared key: every datagram carries an HMAC-SHA-256 tag, and only tagged ones are accepted (v1 only; prefer --key-file or the environment)",
  },
  keyFile: { schema: optional(text()), default: undefined, value: "FILE", help: "read the shared key from this file" },
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

/** The legacy and RTP formats have no room for a tag: a key with them is a mistake on either side. */
export function checkLegacyKey(protocol: "v1" | "legacy" | "rtp", key: string | undefined, errors: string[]): void {
  if (protocol !== "v1" && key !== undefined) {
    errors.push(
      `--key: the ${protocol === "rtp" ? "RTP/JPEG" : "legacy"} protocol has no room for an authentication tag, use --protocol v1 or drop the key`,
    );
  }
}
