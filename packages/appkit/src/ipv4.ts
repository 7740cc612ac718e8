/** IPv4 address checks both apps need for multicast options. */

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** A dotted-quad IPv4 address like 192.0.2.5 (no host names, no leading zeros). */
export const IPV4_ADDRESS = IPV4;

export function isIpv4Address(text: string): boolean {
  return IPV4.test(text);
}

/** 224.0.0.0/4: an IPv4 multicast group. */
export function isMulticastIpv4(address: string): boolean {
  if (!IPV4.test(address)) return false;
  const first = Number(address.split(".", 1)[0]);
  return first >= 224 && first <= 239;
}
