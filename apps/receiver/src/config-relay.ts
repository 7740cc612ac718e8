/**
 * --relay rtp://HOST:PORT and --relay-sdp FILE: where the receiver re-emits every delivered
 * frame as RTP/JPEG (unicast, or a multicast group), and where it writes the session
 * description that players and media servers open.
 */
import { isAbsolute, resolve } from "node:path";
import { isMulticastIpv4 } from "@udpcam/appkit";

export interface RelaySettings {
  readonly host: string;
  readonly port: number;
  readonly multicast: boolean;
  /** Absolute path of the SDP to write, or undefined. */
  readonly sdp: string | undefined;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The settings, or undefined with each problem pushed to `errors` as one line. */
export function parseRelaySettings(
  spec: string | undefined,
  sdp: string | undefined,
  cwd: string,
  errors: string[],
): RelaySettings | undefined {
  if (spec === undefined) {
    if (sdp !== undefined)
      errors.push("--relay-sdp: describes the relay's stream, give --relay rtp://HOST:PORT too or drop --relay-sdp");
    return undefined;
  }
  const match = /^rtp:\/\/([^:/[\]]+):(\d{1,5})\/?$/.exec(spec.trim());
  const port = Number(match?.[2]);
  const host = match?.[1] ?? "";
  const octets = IPV4.exec(host);
  if (match === null || port < 1 || port > 65_535 || octets === null || octets.slice(1).some((o) => Number(o) > 255)) {
    errors.push(
      `--relay: got ${JSON.stringify(spec)}, use rtp://HOST:PORT with an IPv4 address, like rtp://127.0.0.1:5004 or rtp://239.255.0.2:5004 (port 1 to 65535)`,
    );
    return undefined;
  }
  return {
    host,
    port,
    multicast: isMulticastIpv4(host),
    sdp: sdp === undefined ? undefined : isAbsolute(sdp) ? sdp : resolve(cwd, sdp),
  };
}
