import { describe, expect, it } from "vitest";
import { AUTH_PROBLEMS, AuthWatch } from "./auth-warnings.js";

describe("AuthWatch", () => {
  it("says nothing while no datagram is dropped for its key", () => {
    const watch = new AuthWatch();
    expect(watch.check({})).toEqual([]);
    expect(watch.check({ datagramsAuthRequired: 0, datagramsUntagged: 0, datagramsUnauthenticated: 0, datagramsMalformed: 9 })).toEqual([]);
  });

  it("reports each problem once, the first time its counter moves", () => {
    const watch = new AuthWatch();
    expect(watch.check({ datagramsAuthRequired: 3 }).map((p) => p.counter)).toEqual(["datagramsAuthRequired"]);
    expect(watch.check({ datagramsAuthRequired: 50 })).toEqual([]);
    expect(watch.check({ datagramsAuthRequired: 51, datagramsUntagged: 1, datagramsUnauthenticated: 2 }).map((p) => p.counter)).toEqual([
      "datagramsUntagged",
      "datagramsUnauthenticated",
    ]);
    expect(watch.check({ datagramsAuthRequired: 52, datagramsUntagged: 2, datagramsUnauthenticated: 3 })).toEqual([]);
  });

  it("tells the user which option to set on which side", () => {
    const byCounter = Object.fromEntries(AUTH_PROBLEMS.map((p) => [p.counter, p.message]));
    expect(byCounter["datagramsAuthRequired"]).toMatch(/give the receiver the same --key/);
    expect(byCounter["datagramsUntagged"]).toMatch(/give the sender the same --key/);
    expect(byCounter["datagramsUnauthenticated"]).toMatch(/different key/);
  });
});
