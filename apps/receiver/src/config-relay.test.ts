import { describe, expect, it } from "vitest";
import { parseReceiverConfig } from "./config.js";

const parse = (argv: string[]) => parseReceiverConfig({ argv, env: {}, cwd: "/srv", readFile: () => "" });

describe("receiver config: --relay", () => {
  it("takes rtp://HOST:PORT, unicast or multicast, and --relay-sdp against the working directory", () => {
    expect(parse(["--relay", "rtp://127.0.0.1:5004", "--relay-sdp", "relay.sdp"])).toMatchObject({
      kind: "ok",
      config: { relay: { host: "127.0.0.1", port: 5004, multicast: false, sdp: "/srv/relay.sdp" } },
    });
    expect(parse(["--relay", "rtp://239.255.0.2:5004"])).toMatchObject({
      kind: "ok",
      config: { relay: { multicast: true, sdp: undefined } },
    });
    expect(parse([])).toMatchObject({ kind: "ok", config: { relay: undefined } });
  });

  it.each([
    [["--relay", "udp://127.0.0.1:5004"], /^--relay: got "udp:\/\/127.0.0.1:5004", use rtp:\/\/HOST:PORT/],
    [["--relay", "rtp://127.0.0.1:0"], /^--relay: got/],
    [["--relay", "rtp://300.0.0.1:5004"], /^--relay: got/],
    [["--relay-sdp", "relay.sdp"], /^--relay-sdp: describes the relay's stream, give --relay rtp:\/\/HOST:PORT too/],
  ])("refuses %j with one line", (argv, message) => {
    const result = parse(argv);
    expect(result.kind).toBe("errors");
    if (result.kind === "errors") {
      expect(result.errors).toHaveLength(1);
      expect(result.errors[0]).toMatch(message);
    }
  });
});
