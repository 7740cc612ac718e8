import { describe, expect, it } from "vitest";
import { isIpv4Address, isMulticastIpv4 } from "./ipv4.js";

describe("IPv4 checks", () => {
  it.each([
    ["239.255.0.1", true, true],
    ["224.0.0.0", true, true],
    ["239.255.255.255", true, true],
    ["223.255.255.255", true, false],
    ["240.0.0.1", true, false],
    ["127.0.0.1", true, false],
    ["10.0.0.1", true, false],
    ["256.0.0.1", false, false],
    ["239.1.1", false, false],
    ["239.01.1.1", false, false],
    ["example.com", false, false],
  ])("%s: an address %s, multicast %s", (text, address, multicast) => {
    expect(isIpv4Address(text)).toBe(address);
    expect(isMulticastIpv4(text)).toBe(multicast);
  });
});
