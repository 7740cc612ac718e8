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
