import { RTP_JPEG_PAYLOAD_TYPE } from "./rtp-jpeg-header.js";

/** What a session description of one RTP/JPEG stream says. */
export interface RtpJpegSdpOptions {
  /** Where the packets go (unicast or multicast IPv4/IPv6): the address a player listens on or joins. */
  readonly address: string;
  readonly port: number;
  /** Multicast TTL (IPv4), written as c=... /TTL. Default 16 when the address is multicast. */
  readonly ttl?: number;
  /** The sender's own address for the o= line. Default 127.0.0.1 / ::1 by family. */
  readonly origin?: string;
  /** s= line. Default "udpcam". */
  readonly name?: string;
  /** a=framerate, when known. */
  readonly fps?: number;
  readonly payloadType?: number;
  /** o= session id; default the current time in seconds. */
  readonly sessionId?: number;
}

function isMulticast(address: string): boolean {
  const first = Number(address.split(".")[0]);
  return address.includes(":") ? address.toLowerCase().startsWith("ff") : first >= 224 && first <= 239;
}

/**
 * The SDP (RFC 8866) that ffplay, `ffmpeg -i`, VLC and GStreamer's sdpdemux open as it is: one
 * video medium, RTP/AVP, JPEG at 90 kHz. CRLF line ends.
 */
export function rtpJpegSdp(options: RtpJpegSdpOptions): string {
  const { address, port } = options;
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new RangeError(`port must be an integer from 1 to 65535, got ${String(port)}`);
  if (!/^[0-9A-Za-z.:]+$/.test(address))
    throw new RangeError(`address must be an IP address, got ${JSON.stringify(address)}`);
  const family = address.includes(":") ? "IP6" : "IP4";
  const pt = options.payloadType ?? RTP_JPEG_PAYLOAD_TYPE;
  const origin = options.origin ?? (family === "IP6" ? "::1" : "127.0.0.1");
  const name = (options.name ?? "udpcam").replace(/[\r\n]/g, " ");
  const connection = isMulticast(address) && family === "IP4" ? `${address}/${options.ttl ?? 16}` : address;
  const lines = [
    "v=0",
    `o=- ${options.sessionId ?? Math.floor(Date.now() / 1000)} 1 IN ${family} ${origin}`,
    `s=${name}`,
    `c=IN ${family} ${connection}`,
    "t=0 0",
    `m=video ${port} RTP/AVP ${pt}`,
    `a=rtpmap:${pt} JPEG/90000`,
    ...(options.fps !== undefined && options.fps > 0 ? [`a=framerate:${Number(options.fps.toFixed(3))}`] : []),
    "a=recvonly",
  ];
  return lines.join("\r\n") + "\r\n";
}
