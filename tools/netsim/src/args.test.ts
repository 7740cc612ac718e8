import { flagName } from "@udpcam/appkit";
import { describe, expect, it } from "vitest";
import { type CliRequest, helpText, parseCli, parseEndpoint } from "./args.js";
import { IMPAIRMENT_OPTIONS, NetsimOptionsError, resolveImpairmentOptions } from "./options.js";

const run = (request: CliRequest) => {
  if (request.kind !== "run") throw new Error(`expected a run, got ${JSON.stringify(request)}`);
  return request.config;
};
const errors = (argv: string[]): readonly string[] => {
  const request = parseCli(argv);
  if (request.kind !== "error") throw new Error(`expected errors, got ${JSON.stringify(request)}`);
  return request.messages;
};

describe("parseCli", () => {
  it("reads every flag", () => {
    const config = run(
      parseCli([
        "--listen",
        "127.0.0.1:9600",
        "--target",
        "127.0.0.1:9505",
        "--loss",
        "0.01",
        "--mtu",
        "9000",
        "--burst",
        "3",
        "--loss-good",
        "0.002",
        "--reorder",
        "0.1",
        "--reorder-gap",
        "5",
        "--reorder-max-ms",
        "20",
        "--duplicate",
        "0.2",
        "--delay",
        "10",
        "--jitter",
        "2.5",
        "--truncate",
        "0.3",
        "--garbage",
        "0.4",
        "--rate",
        "100",
        "--queue-ms",
        "50",
        "--outage",
        "300",
        "--outage-at",
        "2000",
        "--reverse-loss",
        "0.05",
        "--seed",
        "42",
        "--buffer",
        "1048576",
        "--duration",
        "1.5",
        "--idle-exit",
        "2",
        "--stats",
        "out.json",
      ]),
    );
    expect(config).toEqual({
      netsim: {
        listen: { host: "127.0.0.1", port: 9600 },
        target: { host: "127.0.0.1", port: 9505 },
        loss: 0.01,
        mtu: 9000,
        burst: 3,
        lossGood: 0.002,
        reorder: 0.1,
        reorderGap: 5,
        reorderMaxMs: 20,
        duplicate: 0.2,
        delayMs: 10,
        jitterMs: 2.5,
        truncate: 0.3,
        garbage: 0.4,
        rateMbit: 100,
        queueMs: 50,
        outageMs: 300,
        outageAtMs: 2000,
        reverseLoss: 0.05,
        seed: 42,
        socketBufferBytes: 1_048_576,
      },
      durationS: 1.5,
      idleExitS: 2,
      statsFile: "out.json",
    });
  });

  it("fills defaults, leaves the seed to be drawn, and skips pnpm's leading --", () => {
    const config = run(parseCli(["--", "--target", "127.0.0.1:9505"]));
    expect(config.netsim).toMatchObject({
      listen: { host: "127.0.0.1", port: 9600 },
      loss: 0,
      mtu: 1500,
      reorderGap: 3,
      socketBufferBytes: 8 << 20,
    });
    expect(config.netsim.seed).toBeUndefined();
    expect(config.durationS).toBeUndefined();
  });

  it.each([
    [["--loss", "abc"], '--loss: got "abc", use a number from 0 to 1'],
    [["--loss", "1.5"], '--loss: got "1.5", use a number from 0 to 1'],
    [["--loss", ""], '--loss: got "", use a number from 0 to 1'],
    [["--mtu", "1500.5"], '--mtu: got "1500.5", use a whole number from 68 to 65535'],
    [["--delay=-1"], '--delay: got "-1", use a number from 0 to 600000'],
    [["--delay", "-1"], '--delay: a value that starts with "-" must be joined with "=", like --delay=-1; see --help'],
    [["--seed", "4294967296"], '--seed: got "4294967296", use a whole number from 0 to 4294967295'],
    [["--burst", "0.5"], "--burst: got 0.5, use 0 (independent losses) or at least 1"],
    [["--loss", "0.5", "--burst", "0.9"], "--burst: got 0.9, use 0 (independent losses) or at least 1"],
    [["--loss", "0.9", "--burst", "2"], "--burst: got 2, with a loss of 0.9 the mean burst length must be at least 9"],
    [
      ["--loss", "0.01", "--loss-good", "0.002"],
      "--loss-good: got 0.002, it is the loss between bursts: give --burst too (1 or more)",
    ],
    [
      ["--loss", "0.01", "--burst", "4", "--loss-good", "0.01"],
      "--loss-good: got 0.01, use less than --loss (0.01), the mean over bursts and the time between them",
    ],
    [
      ["--loss", "0.9", "--burst", "2", "--loss-good", "0.5"],
      "--burst: got 2, with a loss of 0.9 (0.5 between bursts) the mean burst length must be at least 4",
    ],
    [["--loss-good", "2"], '--loss-good: got "2", use a number from 0 to 1'],
    [["--duration", "x"], '--duration: got "x", use a number from 0 to 31536000'],
    [["--listen", "9600"], '--listen: got "9600", use HOST:PORT with a port from 0 to 65535'],
    [["--stats", ""], '--stats: got "", use a file name'],
  ])("%j -> one clear line", (argv, message) => {
    expect(errors(["--target", "127.0.0.1:1", ...argv])).toEqual([message]);
  });

  it.each([
    [["--target", "127.0.0.1:1", "--los", "1"], "unknown option --los; see --help"],
    [["--target", "127.0.0.1:1", "--loss"], "--loss needs a value; see --help"],
    [["--target", "127.0.0.1:1", "--loss", "--duplicate", "0.1"], /^--loss: /],
    [["--target", "127.0.0.1:1", "extra"], 'unexpected argument "extra" (options look like --name value); see --help'],
    [[], "--target: required, as HOST:PORT (e.g. 127.0.0.1:9505)"],
  ])("%j -> %s", (argv, message) => {
    const [line] = errors(argv);
    if (typeof message === "string") expect(line).toBe(message);
    else expect(line).toMatch(message);
  });

  it("reports every bad flag, one line each", () => {
    expect(errors(["--target", "x:99999", "--loss", "2", "--duplicate=-0.1"])).toHaveLength(3);
  });

  it("reads the environment and a --config file, flags first", () => {
    const file = JSON.stringify({ loss: 0.2, seed: 7 });
    const config = run(
      parseCli(
        ["--config", "netsim.json", "--seed", "9"],
        { NETSIM_TARGET: "127.0.0.1:9505", NETSIM_LOSS: "0.1" },
        () => file,
      ),
    );
    expect(config.netsim).toMatchObject({ target: { host: "127.0.0.1", port: 9505 }, loss: 0.1, seed: 9 });
  });

  it("asks for help with -h or --help, whatever else is given", () => {
    expect(parseCli(["--help"])).toEqual({ kind: "help" });
    expect(parseCli(["-h", "--loss", "9"])).toEqual({ kind: "help" });
  });
});

describe("helpText", () => {
  it("lists every option with its default", () => {
    const text = helpText();
    expect(text).toContain("  -h, --help ");
    const impairmentFlags = Object.keys(IMPAIRMENT_OPTIONS).map((key) => `--${flagName(key)}`);
    for (const flag of [
      "--listen",
      "--target",
      "--stats",
      "--buffer",
      "--duration",
      "--idle-exit",
      ...impairmentFlags,
    ]) {
      expect(text).toContain(`  ${flag} `);
    }
    expect(impairmentFlags).toEqual(
      expect.arrayContaining(["--delay", "--jitter", "--rate", "--reorder-gap", "--queue-ms"]),
    );
    Object.values(IMPAIRMENT_OPTIONS).forEach((option, i) => {
      const line = text.split("\n").find((candidate) => candidate.startsWith(`  ${impairmentFlags[i]} `));
      expect(line).toContain(
        option.default === undefined ? "default unset]" : `default ${JSON.stringify(option.default)}]`,
      );
    });
  });
});

describe("parseEndpoint", () => {
  it.each([
    ["127.0.0.1:9600", { host: "127.0.0.1", port: 9600 }],
    ["localhost:0", { host: "localhost", port: 0 }],
    ["[::1]:9600", { host: "::1", port: 9600 }],
  ])("reads %s", (raw, endpoint) => expect(parseEndpoint(raw)).toEqual(endpoint));

  it.each(["127.0.0.1", ":9600", "127.0.0.1:", "127.0.0.1:65536", "::1:9600", "host:12x"])("rejects %s", (raw) => {
    expect(typeof parseEndpoint(raw)).toBe("string");
  });
});

describe("resolveImpairmentOptions", () => {
  it("fills defaults and draws a seed only when none is given", () => {
    expect(resolveImpairmentOptions({}, () => 7)).toEqual({
      seed: 7,
      mtu: 1500,
      loss: 0,
      burst: 0,
      lossGood: 0,
      reorder: 0,
      reorderGap: 3,
      reorderMaxMs: 50,
      duplicate: 0,
      delayMs: 0,
      jitterMs: 0,
      truncate: 0,
      garbage: 0,
      rateMbit: 0,
      queueMs: 100,
      outageMs: 0,
      outageAtMs: 0,
      reverseLoss: 0,
    });
    expect(resolveImpairmentOptions({ seed: 0 }, () => 7).seed).toBe(0);
  });

  it("names options by key and lists every issue", () => {
    try {
      resolveImpairmentOptions({ loss: -0.5, mtu: 1e9, reorderGap: 0 }, () => 1);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(NetsimOptionsError);
      expect((error as NetsimOptionsError).issues).toEqual([
        { path: "loss", message: "got -0.5, use a number from 0 to 1" },
        { path: "mtu", message: "got 1000000000, use a whole number from 68 to 65535" },
        { path: "reorderGap", message: "got 0, use a whole number from 1 to 1000000" },
      ]);
      expect((error as NetsimOptionsError).code).toBe("NETSIM_BAD_OPTIONS");
    }
  });
});
