import { lookup } from "node:dns/promises";
import { UserError, isMulticastIpv4 } from "@udpcam/appkit";
import { DEFAULT_MAX_DATAGRAM_BYTES, MAX_DATAGRAM_BYTES } from "@udpcam/protocol";

/** What fits in one 1500-byte Ethernet packet: 1500 - 20 (IPv4) - 8 (UDP). */
export const PATH_SAFE_DATAGRAM_BYTES = DEFAULT_MAX_DATAGRAM_BYTES;
/** The largest UDP payload over IPv4, which loopback carries whole (MTU 65536). */
export const LOOPBACK_DATAGRAM_BYTES = MAX_DATAGRAM_BYTES;

export interface Destination {
  readonly address: string;
  readonly port: number;
  readonly isLoopback: boolean;
  /**
   * A group (224.0.0.0/4): never loopback-sized, even when receivers on this machine join it,
   * because the group may also be joined across the LAN (1,472-byte datagrams and FEC by default).
   */
  readonly isMulticast: boolean;
}

export async function resolveDestination(host: string, port: number): Promise<Destination> {
  let address: string;
  try {
    ({ address } = await lookup(host, { family: 4 }));
  } catch (error) {
    throw new UserError(
      `--host: cannot resolve "${host}" (${(error as NodeJS.ErrnoException).code ?? "lookup failed"}), use an IPv4 address or a known host name`,
    );
  }
  return { address, port, isLoopback: address.startsWith("127."), isMulticast: isMulticastIpv4(address) };
}

/** --datagram-size auto: whole frames' worth to this machine, no IP fragmentation elsewhere. */
export function chooseDatagramSize(requested: number | "auto", destination: Destination): number {
  if (requested !== "auto") return requested;
  return destination.isLoopback ? LOOPBACK_DATAGRAM_BYTES : PATH_SAFE_DATAGRAM_BYTES;
}

/** Parity that pays for itself: on a real path (one packet a datagram); not on loopback, which loses nothing. */
export const AUTO_FEC_OVERHEAD = 0.1;

export function chooseFecOverhead(requested: number | "auto", datagramSize: number): number {
  if (requested !== "auto") return requested;
  return datagramSize <= PATH_SAFE_DATAGRAM_BYTES ? AUTO_FEC_OVERHEAD : 0;
}

/** --fec auto with window FEC: 12% of repairs, 12.7% over the stream without FEC (flag W's 4 bytes included). */
export const AUTO_WINDOW_FEC_OVERHEAD = 0.12;

/**
 * --fec auto with --nack on: no FEC. Measured through 1% loss in bursts of 4 (docs/benchmarks/loss-bursts.md, seeds
 * 8, 18, 28): NACK alone 750/750 intact at 1.2% overhead, p99 16 ms; NACK + window FEC 5% 750/750 at 6.7%, p99 19 ms.
 */
export const AUTO_NACK_FEC_OVERHEAD = 0;

export interface FecChoice {
  readonly scheme: "frame" | "window";
  readonly overhead: number;
}

/**
 * --fec-scheme auto: window FEC for JPEG (frames of tens of datagrams, which a burst of losses beats
 * per frame: docs/benchmarks/loss-bursts.md), encrypted or not (an encrypted stream's repairs carry
 * the run's salt and a MAC under the key, docs/protocol.md 1.8), parity per frame for raw frames
 * (hundreds of datagrams: the frame's own interleaved groups spread a burst already, at a tenth of the CPU).
 */
export function chooseFec(
  requested: {
    readonly fec: number | "auto";
    readonly fecScheme: "auto" | "frame" | "window";
    readonly nack?: "on" | "off";
  },
  codec: "jpeg" | "raw",
  datagramSize: number,
): FecChoice {
  if (requested.nack === "on" && requested.fec === "auto") return { scheme: "frame", overhead: AUTO_NACK_FEC_OVERHEAD };
  const scheme = requested.fecScheme === "auto" ? (codec === "jpeg" ? "window" : "frame") : requested.fecScheme;
  if (scheme === "frame") return { scheme, overhead: chooseFecOverhead(requested.fec, datagramSize) };
  const overhead =
    requested.fec === "auto"
      ? datagramSize <= PATH_SAFE_DATAGRAM_BYTES
        ? AUTO_WINDOW_FEC_OVERHEAD
        : 0
      : requested.fec;
  return overhead > 0 ? { scheme, overhead } : { scheme: "frame", overhead: 0 };
}
