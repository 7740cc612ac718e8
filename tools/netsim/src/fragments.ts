/**
 * How a UDP datagram travels over an IPv4 link: if the IP packet does not fit the MTU,
 * it is cut into fragments. Each fragment carries its own 20-byte IP header; the UDP
 * header (8 bytes) travels in the first fragment as part of the fragmented payload; every
 * fragment but the last carries a multiple of 8 bytes of that payload.
 *
 *   datagram (UDP payload) of n bytes
 *   IP payload = 8 (UDP header) + n
 *   fits one packet if IP payload <= mtu - 20; else
 *   every fragment but the last: F = floor((mtu - 20) / 8) * 8 bytes   (1480 at MTU 1500)
 *   the last: up to mtu - 20 bytes
 *   fragments = 1 + ceil((IP payload - (mtu - 20)) / F)
 *
 * So at MTU 1500: 1472 bytes -> 1 fragment, 1473 -> 2, 46,081 -> 32.
 */
export const IPV4_HEADER_BYTES = 20;
export const UDP_HEADER_BYTES = 8;
/** Fragment offsets count 8-byte units. */
export const FRAGMENT_UNIT_BYTES = 8;
/** The smallest MTU an IPv4 link may have (RFC 791). */
export const MIN_IPV4_MTU = 68;
/** The largest IPv4 packet. */
export const MAX_IPV4_MTU = 65_535;
/** The largest UDP payload over IPv4: 65,535 - 20 - 8. */
export const MAX_UDP_PAYLOAD_BYTES = MAX_IPV4_MTU - IPV4_HEADER_BYTES - UDP_HEADER_BYTES;

/** Bytes of IP payload each fragment carries at `mtu` (1480 at MTU 1500). */
export function fragmentPayloadBytes(mtu: number): number {
  checkMtu(mtu);
  return Math.floor((mtu - IPV4_HEADER_BYTES) / FRAGMENT_UNIT_BYTES) * FRAGMENT_UNIT_BYTES;
}

/** How many IP fragments a datagram with `payloadBytes` bytes of UDP payload takes at `mtu`. */
export function fragmentCount(payloadBytes: number, mtu: number): number {
  if (!Number.isInteger(payloadBytes) || payloadBytes < 0 || payloadBytes > MAX_UDP_PAYLOAD_BYTES) {
    throw new RangeError(
      `payloadBytes: must be an integer between 0 and ${MAX_UDP_PAYLOAD_BYTES}, got ${payloadBytes}`,
    );
  }
  return countFragments(payloadBytes, mtu, fragmentPayloadBytes(mtu));
}

/** `fragmentCount` without the checks, for the per-datagram path; `perFragment` is `fragmentPayloadBytes(mtu)`. */
export function countFragments(payloadBytes: number, mtu: number, perFragment: number): number {
  const beyondFirst = UDP_HEADER_BYTES + payloadBytes - (mtu - IPV4_HEADER_BYTES);
  return beyondFirst <= 0 ? 1 : 1 + Math.ceil(beyondFirst / perFragment);
}

/** Bytes the datagram puts on the wire: its payload, the UDP header and one IP header per fragment. */
export function wireBytes(payloadBytes: number, mtu: number): number {
  return payloadBytes + UDP_HEADER_BYTES + IPV4_HEADER_BYTES * fragmentCount(payloadBytes, mtu);
}

function checkMtu(mtu: number): void {
  if (!Number.isInteger(mtu) || mtu < MIN_IPV4_MTU || mtu > MAX_IPV4_MTU) {
    throw new RangeError(`mtu: must be an integer between ${MIN_IPV4_MTU} and ${MAX_IPV4_MTU}, got ${mtu}`);
  }
}
