import { describe, expect, it } from "vitest";
import { isLoopbackHost, parseReceiverConfig } from "./config.js";

function parse(argv: string[], env: Record<string, string | undefined> = {}) {
  return parseReceiverConfig({ argv, env, cwd: "/home/user", readFile: () => "" });
}

describe("receiver config: --http", () => {
  it("is off by default", () => {
    const result = parse([]);
    expect(result.kind === "ok" && result.config.http).toBeUndefined();
  });

  it.each([
    { spec: "8080", host: "127.0.0.1", port: 8080 },
    { spec: "127.0.0.1:9000", host: "127.0.0.1", port: 9000 },
    { spec: "localhost:0", host: "localhost", port: 0 },
    { spec: "[::1]:8080", host: "::1", port: 8080 },
  ])("$spec binds $host port $port", ({ spec, host, port }) => {
    const result = parse(["--http", spec]);
    expect(result).toMatchObject({ kind: "ok", config: { http: { host, port, token: undefined, quality: 80 } } });
  });

  it("takes the token, the quality and the switch from flags and the environment", () => {
    const result = parse(["--http", "0.0.0.0:8080", "--http-quality", "60"], { RECEIVER_HTTP_TOKEN: "s3cret" });
    expect(result).toMatchObject({
      kind: "ok",
      config: { http: { host: "0.0.0.0", port: 8080, token: "s3cret", quality: 60 } },
    });
    expect(parse(["--http", "0.0.0.0:8080", "--http-insecure"])).toMatchObject({
      kind: "ok",
      config: { http: { host: "0.0.0.0", token: undefined } },
    });
    expect(parse(["--http", "8080"], { RECEIVER_HTTP_INSECURE: "true" }).kind).toBe("ok");
  });

  it("refuses a non-loopback bind without a token or --http-insecure, in one line naming both", () => {
    const result = parse(["--http", "0.0.0.0:8080"]);
    expect(result.kind).toBe("errors");
    const errors = result.kind === "errors" ? result.errors : [];
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^--http 0\.0\.0\.0:8080: .*--http-token.*--http-insecure/);
    expect(errors[0]).not.toContain("\n");
  });

  it.each(["", "http", "host:", "1.2.3.4:70000", ":80", "a:b:80"])("refuses %j", (spec) => {
    expect(parse(["--http", spec]).kind).toBe("errors");
  });

  it("never echoes the token in an error", () => {
    const result = parse(["--http", "nope", "--http-token", "hunter2hunter2"]);
    expect(JSON.stringify(result)).not.toContain("hunter2");
  });

  it.each([
    ["127.0.0.1", true],
    ["127.3.2.1", true],
    ["::1", true],
    ["localhost", true],
    ["0.0.0.0", false],
    ["192.168.1.5", false],
    ["::", false],
  ] as const)("loopback %s: %s", (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});
