import { describe, expect, it } from "vitest";
import { chooseDatagramSize, chooseFec, chooseFecOverhead, resolveDestination } from "./destination.js";

describe("destination defaults", () => {
  it("auto datagrams: whole loopback datagrams to this machine, one packet elsewhere", async () => {
    expect(chooseDatagramSize("auto", await resolveDestination("127.0.0.1", 9505))).toBe(65_507);
    expect(chooseDatagramSize("auto", await resolveDestination("192.0.2.10", 9505))).toBe(1_472);
    expect(chooseDatagramSize(9_000, await resolveDestination("192.0.2.10", 9505))).toBe(9_000);
  });

  it("a multicast group is not loopback: one-packet datagrams, so FEC is on by default", async () => {
    const group = await resolveDestination("239.255.0.1", 9505);
    expect(group).toMatchObject({ address: "239.255.0.1", isLoopback: false, isMulticast: true });
    expect(chooseDatagramSize("auto", group)).toBe(1_472);
    expect(chooseFecOverhead("auto", chooseDatagramSize("auto", group))).toBe(0.1);
    expect((await resolveDestination("127.0.0.1", 9505)).isMulticast).toBe(false);
  });

  it("auto FEC: 10% parity on one-packet datagrams, none on loopback-sized ones, as asked otherwise", () => {
    expect(chooseFecOverhead("auto", 1_472)).toBe(0.1);
    expect(chooseFecOverhead("auto", 65_507)).toBe(0);
    expect(chooseFecOverhead(0.25, 65_507)).toBe(0.25);
    expect(chooseFecOverhead(0, 1_472)).toBe(0);
  });

  it("names --host when a name does not resolve", async () => {
    await expect(resolveDestination("no-such-host.invalid", 9505)).rejects.toThrow(
      /^--host: cannot resolve "no-such-host.invalid"/,
    );
  });
});

describe("chooseFec", () => {
  it("auto: window FEC 12% for JPEG, per frame 10% for raw; none with --nack on (retransmission recovers it all)", () => {
    expect(chooseFec({ fec: "auto", fecScheme: "auto" }, "jpeg", 1472)).toEqual({ scheme: "window", overhead: 0.12 });
    expect(chooseFec({ fec: "auto", fecScheme: "auto" }, "raw", 1472)).toEqual({ scheme: "frame", overhead: 0.1 });
    for (const codec of ["jpeg", "raw"] as const)
      expect(chooseFec({ fec: "auto", fecScheme: "auto", nack: "on" }, codec, 1472)).toEqual({
        scheme: "frame",
        overhead: 0,
      });
    expect(chooseFec({ fec: 0.05, fecScheme: "auto", nack: "on" }, "jpeg", 1472)).toEqual({
      scheme: "window",
      overhead: 0.05,
    });
  });
});
