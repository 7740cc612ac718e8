#!/usr/bin/env node
// The netsim command: the only module that touches `process`. A user's mistake exits 2
// with one line per problem; a bug exits 1 with its stack.
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { type CliConfig, helpText, parseCli } from "./args.js";
import { type NetsimStats, startNetsim } from "./netsim.js";
import { NetsimOptionsError } from "./options.js";

const IDLE_CHECK_MS = 100;

async function main(): Promise<number> {
  const request = parseCli(process.argv.slice(2), process.env, (path) => readFileSync(path, "utf8"));
  if (request.kind === "help") {
    process.stdout.write(helpText());
    return 0;
  }
  if (request.kind === "error") {
    for (const message of request.messages) process.stderr.write(`netsim: ${message}\n`);
    return 2;
  }
  return run(request.config);
}

async function run(config: CliConfig): Promise<number> {
  const { netsim: options } = config;
  const netsim = await startNetsim(options);
  const stopped = new Promise<string>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      // Graceful on the first signal; a second one while draining exits at once.
      process.once(signal, () => {
        process.stdout.write(`${JSON.stringify(netsim.stats())}\n`);
        process.exit(130);
      });
      resolve(signal);
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    if (config.durationS !== undefined) setTimeout(resolve, config.durationS * 1000, "duration").unref();
    if (config.idleExitS !== undefined) {
      const idleMs = config.idleExitS * 1000;
      let lastCount = 0;
      let lastChangeMs = Date.now();
      setInterval(
        () => {
          const count = netsim.stats().datagramsIn;
          const nowMs = Date.now();
          if (count !== lastCount) {
            lastCount = count;
            lastChangeMs = nowMs;
          } else if (nowMs - lastChangeMs >= idleMs) {
            resolve("idle");
          }
        },
        Math.min(IDLE_CHECK_MS, idleMs),
      ).unref();
    }
  });
  // Only now, with the signal handlers in place: whoever waits for this line may signal at once.
  const listenHost = options.listen?.host ?? "127.0.0.1";
  process.stderr.write(
    `netsim: listening on ${listenHost}:${netsim.port}, forwarding to ${options.target.host}:${options.target.port}, seed ${netsim.options.seed}\n`,
  );
  // Keep the process alive while waiting for a signal even with no socket traffic.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  await stopped;
  clearInterval(keepAlive);
  const stats = await netsim.close();
  await report(stats, config.statsFile);
  return 0;
}

async function report(stats: NetsimStats, statsFile: string | undefined): Promise<void> {
  const json = `${JSON.stringify(stats)}\n`;
  if (statsFile !== undefined) await writeFile(statsFile, json);
  process.stdout.write(json);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof NetsimOptionsError) {
      for (const issue of error.issues) process.stderr.write(`netsim: ${issue.path}: ${issue.message}\n`);
      process.exitCode = 2;
      return;
    }
    if (isUserSocketError(error)) {
      process.stderr.write(`netsim: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);

/** Binding a port in use, or an address not on this machine, or a host that does not resolve: the user's to fix. */
function isUserSocketError(error: unknown): error is Error {
  const code = (error as { code?: unknown } | undefined)?.code;
  return (
    error instanceof Error &&
    (code === "EADDRINUSE" ||
      code === "EADDRNOTAVAIL" ||
      code === "EACCES" ||
      code === "ENOTFOUND" ||
      code === "EAI_AGAIN")
  );
}
