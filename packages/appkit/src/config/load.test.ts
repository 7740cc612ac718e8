import { describe, expect, it } from "vitest";
import { loadConfig, type OptionTable } from "./load.js";
import { flag, integer, oneOf, optional, text } from "./values.js";

const table = {
  port: { schema: integer(1, 65535), default: 9505, help: "port", value: "N" },
  protocol: { schema: oneOf(["v1", "legacy"] as const), default: "v1", help: "protocol", value: "NAME" },
  verbose: { schema: flag(), default: false, help: "more", isSwitch: true },
  key: { schema: optional(text()), default: undefined, help: "secret", value: "KEY", secret: true },
} satisfies OptionTable;

function load(argv: string[], env: Record<string, string | undefined> = {}, file?: string) {
  return loadConfig(table, "APP", {
    argv,
    env,
    readFile: (path) => {
      if (file === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
      return file;
    },
  });
}

describe("loadConfig precedence", () => {
  it.each([
    { name: "default", argv: [], env: {}, file: undefined, port: 9505 },
    { name: "file over default", argv: ["--config", "c.json"], env: {}, file: '{"port": 1000}', port: 1000 },
    {
      name: "env over file",
      argv: ["--config", "c.json"],
      env: { APP_PORT: "2000" },
      file: '{"port": 1000}',
      port: 2000,
    },
    {
      name: "flag over env",
      argv: ["--port", "3000", "--config", "c.json"],
      env: { APP_PORT: "2000" },
      file: '{"port": 1000}',
      port: 3000,
    },
    { name: "config file named by env", argv: [], env: { APP_CONFIG: "c.json" }, file: '{"port": 1001}', port: 1001 },
    { name: "pnpm's leading --", argv: ["--", "--port", "4000"], env: {}, file: undefined, port: 4000 },
  ])("$name", ({ argv, env, file, port }) => {
    const result = load(argv, env, file);
    expect(result.kind).toBe("ok");
    if (result.kind === "ok") expect(result.config.port).toBe(port);
  });

  it("reads switches and their env form", () => {
    const fromFlag = load(["--verbose"]);
    const fromEnv = load([], { APP_VERBOSE: "yes" });
    expect(fromFlag.kind === "ok" && fromFlag.config.verbose).toBe(true);
    expect(fromEnv.kind === "ok" && fromEnv.config.verbose).toBe(true);
  });

  it("answers --help and -h", () => {
    expect(load(["--help"]).kind).toBe("help");
    expect(load(["--", "-h"]).kind).toBe("help");
  });
});

describe("loadConfig errors", () => {
  it.each([
    { argv: ["--port", "70000"], message: '--port: got "70000", use a whole number from 1 to 65535' },
    { argv: ["--port", "12ab"], message: '--port: got "12ab", use a whole number from 1 to 65535' },
    { argv: ["--protocol", "v2"], message: '--protocol: got "v2", use one of: v1, legacy' },
    { argv: ["--bogus", "1"], message: "unknown option --bogus; see --help" },
    { argv: ["extra"], message: 'unexpected argument "extra" (options look like --name value); see --help' },
    { argv: ["--port"], message: "--port needs a value; see --help" },
  ])("$argv.0 $argv.1", ({ argv, message }) => {
    expect(load(argv)).toEqual({ kind: "errors", errors: [message] });
  });

  it("names the environment variable that holds a bad value", () => {
    expect(load([], { APP_PORT: "0" })).toEqual({
      kind: "errors",
      errors: ['--port (from APP_PORT): got "0", use a whole number from 1 to 65535'],
    });
  });

  it("reports every problem at once, file problems included", () => {
    const result = load(["--config", "c.json", "--protocol", "x"], {}, '{"port": "high", "colour": 1}');
    expect(result.kind === "errors" && result.errors).toEqual([
      'config file: unknown key "colour", use one of: port, protocol, verbose, key',
      '--port (from "port" in the config file): got "high", use a whole number from 1 to 65535',
      '--protocol: got "x", use one of: v1, legacy',
    ]);
  });

  it("says when the config file is missing or not JSON", () => {
    expect(load(["--config", "nope.json"])).toEqual({
      kind: "errors",
      errors: ["--config: cannot read nope.json (ENOENT: no such file, open 'nope.json')"],
    });
    const broken = load(["--config", "c.json"], {}, "{port: 1");
    expect(broken.kind === "errors" && broken.errors[0]).toMatch(/^--config: c.json is not valid JSON \(/);
  });

  it("never echoes a secret value", () => {
    const result = load(["--key", ""]);
    expect(result).toEqual({ kind: "errors", errors: [expect.stringMatching(/^--key: invalid value \(not shown\)/)] });
  });
});
