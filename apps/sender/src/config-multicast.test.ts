import { describe, expect, it } from "vitest";
import { parseSenderConfig } from "./config.js";

const parse = (argv: string[]) => parseSenderConfig({ argv, env: {}, cwd: "/tmp", readFile: () => "" });

describe("sender config: multicast", () => {
  it("TTL 1 (this LAN) and the routing table's interface by default", () => {
    expect(parse(["--host", "239.255.0.1"])).toMatchObject({
      kind: "ok",
      config: { host: "239.255.0.1", ttl: 1, multicastInterface: undefined },
    });
  });

  it("--ttl and --multicast-interface as given; a TTL out of 1..255 or an interface that is no address is refused", () => {
    expect(parse(["--host", "239.255.0.1", "--ttl", "4", "--multicast-interface", "10.0.0.1"])).toMatchObject({
      kind: "ok",
      config: { ttl: 4, multicastInterface: "10.0.0.1" },
    });
    const bad = parse(["--ttl", "0", "--multicast-interface", "eth0"]);
    expect(bad.kind).toBe("errors");
    if (bad.kind === "errors")
      expect(bad.errors.join("\n")).toMatch(/--ttl[^]*--multicast-interface|--multicast-interface[^]*--ttl/);
  });
});
