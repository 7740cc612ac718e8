import { describe, expect, it } from "vitest";
import { MAX_UDP_PAYLOAD_BYTES, fragmentCount, fragmentPayloadBytes, wireBytes } from "./fragments.js";

describe("fragmentCount", () => {
  it.each([
    // [UDP payload bytes, MTU, fragments]
    [0, 1500, 1],
    [1, 1500, 1],
    [1472, 1500, 1], // 8 + 1472 = 1480: exactly one full packet
    [1473, 1500, 2],
    [2952, 1500, 2], // 8 + 2952 = 2960 = 2 x 1480
    [2953, 1500, 3],
    [46_081, 1500, 32], // 8 + 46,081 = 46,089 > 31 x 1480 = 45,880
    [MAX_UDP_PAYLOAD_BYTES, 1500, 45],
    [548, 576, 1], // 576 - 20 = 556 = 8 + 548: one packet, no 8-byte rounding
    [549, 576, 2],
    [1100, 576, 2], // 552 + 556 = 1108 = 8 + 1100: the last fragment needs no rounding
    [1101, 576, 3],
    [100, 68, 3], // 48 + 48 + 12
    [8972, 9000, 1], // jumbo frames
    [8973, 9000, 2],
  ])("%i bytes at MTU %i -> %i fragments", (bytes, mtu, fragments) => {
    expect(fragmentCount(bytes, mtu)).toBe(fragments);
  });

  it("rounds each fragment's payload down to a multiple of 8 bytes", () => {
    expect(fragmentPayloadBytes(1500)).toBe(1480);
    expect(fragmentPayloadBytes(1006)).toBe(984); // 986 -> 984
    expect(fragmentPayloadBytes(68)).toBe(48);
  });

  it("counts an IP header per fragment on the wire", () => {
    expect(wireBytes(1472, 1500)).toBe(1500);
    expect(wireBytes(1473, 1500)).toBe(1473 + 8 + 2 * 20);
  });

  it.each([
    [-1, 1500],
    [1.5, 1500],
    [MAX_UDP_PAYLOAD_BYTES + 1, 1500],
    [100, 67],
    [100, 65_536],
    [100, 1500.5],
  ])("rejects %d bytes at MTU %d", (bytes, mtu) => {
    expect(() => fragmentCount(bytes, mtu)).toThrow(RangeError);
  });
});
