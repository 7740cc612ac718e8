import { createLegacyReassembler } from "@udpcam/protocol";
import { describe, expect, it } from "vitest";
import { WIRE_PROBLEMS, WireWatch } from "./wire-warnings.js";
import { EMPTY_INGEST_COUNTERS, type ProtocolCounters } from "./ingest/messages.js";

const v1 = (
  counts: Partial<
    Record<
      | "datagramsAuthRequired"
      | "datagramsUntagged"
      | "datagramsUnauthenticated"
      | "datagramsMalformed"
      | "datagramsUnencrypted"
      | "datagramsDecrypted"
      | "datagramsLegacyLike",
      number
    >
  >,
): ProtocolCounters => {
  const empty = EMPTY_INGEST_COUNTERS.protocol;
  if (empty.format !== "v1") throw new Error("the empty counters are v1's");
  return { ...empty, ...counts };
};

describe("WireWatch", () => {
  it("says nothing while no datagram is dropped for its key", () => {
    const watch = new WireWatch();
    expect(watch.check(v1({}))).toEqual([]);
    expect(watch.check(v1({ datagramsMalformed: 9 }))).toEqual([]);
  });

  it("reports each problem once, the first time its counter moves", () => {
    const watch = new WireWatch();
    expect(watch.check(v1({ datagramsAuthRequired: 3 })).map((p) => p.counter)).toEqual(["datagramsAuthRequired"]);
    expect(watch.check(v1({ datagramsAuthRequired: 50 }))).toEqual([]);
    expect(
      watch
        .check(v1({ datagramsAuthRequired: 51, datagramsUntagged: 1, datagramsUnauthenticated: 2 }))
        .map((p) => p.counter),
    ).toEqual(["datagramsUntagged", "datagramsUnauthenticated"]);
    expect(watch.check(v1({ datagramsAuthRequired: 52, datagramsUntagged: 2, datagramsUnauthenticated: 3 }))).toEqual(
      [],
    );
  });

  it("points a sender of the other wire format to --protocol", () => {
    const watch = new WireWatch();
    expect(watch.check(v1({ datagramsMalformed: 4, datagramsLegacyLike: 4 })).map((p) => p.message)).toEqual([
      expect.stringMatching(/--protocol legacy/),
    ]);
    const legacy = { ...createLegacyReassembler().counters, format: "legacy" as const, framesDroppedForKernelLoss: 0 };
    expect(watch.check({ ...legacy, datagramsV1Like: 2 }).map((p) => p.message)).toEqual([
      expect.stringMatching(/--protocol v1/),
    ]);
    expect(watch.check({ ...legacy, datagramsV1Like: 3 })).toEqual([]);
  });

  it("the other encryption mode: said once, as a warning (--encrypt on, dropped) or a note (--encrypt off, accepted)", () => {
    const on = new WireWatch({ encrypt: true });
    expect(on.check(v1({ datagramsDecrypted: 5 }))).toEqual([]);
    expect(on.check(v1({ datagramsDecrypted: 5, datagramsUnencrypted: 2 })).map((p) => [p.level, p.message])).toEqual([
      [undefined, expect.stringMatching(/not encrypted.*--encrypt off/)],
    ]);
    expect(on.check(v1({ datagramsUnencrypted: 9 }))).toEqual([]);
    const off = new WireWatch({ encrypt: false });
    expect(off.check(v1({ datagramsUnencrypted: 1 }))).toEqual([]);
    expect(off.check(v1({ datagramsDecrypted: 3 })).map((p) => [p.level, p.message])).toEqual([
      ["info", expect.stringMatching(/arrive encrypted and are accepted/)],
    ]);
    expect(off.check(v1({ datagramsDecrypted: 4 }))).toEqual([]);
  });

  it("tells the user which option to set on which side", () => {
    const byCounter = Object.fromEntries(WIRE_PROBLEMS.map((p) => [p.counter, p.message]));
    expect(byCounter["datagramsAuthRequired"]).toMatch(/give the receiver the same --key/);
    expect(byCounter["datagramsUntagged"]).toMatch(/give the sender the same --key/);
    expect(byCounter["datagramsUnauthenticated"]).toMatch(/different key/);
  });
});
