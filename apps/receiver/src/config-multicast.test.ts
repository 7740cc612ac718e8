import { describe, expect, it } from "vitest";
import { parseReceiverConfig } from "./config.js";

const parse = (argv: string[]) => parseReceiverConfig({ argv, env: {}, cwd: "/tmp", readFile: () => "" });

describe("receiver config: multicast", () => {
  it("a group in --host with its interface and a source-specific sender", () => {
    const result = parse([
      "--host",
      "239.255.0.1",
      "--multicast-interface",
      "10.0.0.2",
      "--source-address",
      "10.0.0.1",
    ]);
    expect(result).toMatchObject({
      kind: "ok",
      config: { host: "239.255.0.1", multicastInterface: "10.0.0.2", sourceAddress: "10.0.0.1" },
    });
  });

  it("the multicast options without a group in --host: one line each, naming the flag", () => {
    const result = parse(["--host", "127.0.0.1", "--multicast-interface", "10.0.0.2", "--source-address", "10.0.0.1"]);
    expect(result).toEqual({
      kind: "errors",
      errors: [
        "--multicast-interface: only with a multicast group in --host (224.0.0.0 to 239.255.255.255), got --host 127.0.0.1",
        "--source-address: only with a multicast group in --host (224.0.0.0 to 239.255.255.255), got --host 127.0.0.1",
      ],
    });
  });

  it("refuses an interface or source that is not an IPv4 address", () => {
    const result = parse([
      "--host",
      "239.255.0.1",
      "--multicast-interface",
      "eth0",
      "--source-address",
      "sender.local",
    ]);
    expect(result.kind).toBe("errors");
    if (result.kind !== "errors") return;
    expect(result.errors.join("\n")).toMatch(/--multicast-interface/);
    expect(result.errors.join("\n")).toMatch(/--source-address/);
  });
});
