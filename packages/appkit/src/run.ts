import { UserError } from "./errors.js";

export interface ProcessIo {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where the user ran the command (pnpm runs scripts in the package folder). */
  readonly cwd: string;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

export interface RunningApp {
  /** Settles with the exit code once the app has stopped and flushed everything. */
  readonly done: Promise<number>;
  /** Stops gracefully (finalizes recordings); safe to call more than once. */
  close(reason: string): Promise<void>;
  /** Rereads what can change while running (key files), on SIGHUP. Without it SIGHUP keeps its default (exit). */
  reload?(): void;
}

const FORCED_EXIT_AFTER_MS = 5_000;

/**
 * The only place that touches process: runs an app, turns a UserError into one
 * line and exit code 2 and anything else into a stack and exit code 1, stops
 * gracefully on the first SIGINT/SIGTERM and at once on the second, hands SIGHUP
 * to an app that can reload, and closes the app (so recordings are finalized) on
 * a crash too.
 */
export function runApp(name: string, start: (io: ProcessIo) => Promise<RunningApp | number>): void {
  const io: ProcessIo = {
    argv: process.argv.slice(2),
    env: process.env,
    cwd: process.env.INIT_CWD ?? process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
  };
  let app: RunningApp | undefined;
  let stopRequested: string | undefined;

  const exitSoon = (code: number): void => {
    process.exitCode = code;
    // Leaves time for piped output to drain, but never hangs on a leaked handle.
    setTimeout(() => process.exit(code), 1_000).unref();
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopRequested !== undefined) {
      process.stderr.write(`\n${name}: ${signal} again, exiting without cleanup\n`);
      process.exit(130);
    }
    stopRequested = signal;
    if (app === undefined) exitSoon(130);
    else void app.close(signal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const crash = (error: unknown): void => {
    const report = (): void => {
      if (UserError.isInstance(error)) {
        process.stderr.write(`${name}: ${error.message}\n`);
        exitSoon(2);
      } else {
        process.stderr.write(
          `${name}: internal error, please report it:\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
        );
        exitSoon(1);
      }
    };
    if (app === undefined) return report();
    const running = app;
    app = undefined;
    const forced = setTimeout(() => process.exit(1), FORCED_EXIT_AFTER_MS);
    forced.unref();
    running.close("crash").then(report, report);
  };
  process.on("uncaughtException", crash);
  process.on("unhandledRejection", crash);

  start(io).then(async (started) => {
    if (typeof started === "number") return exitSoon(started);
    app = started;
    if (started.reload !== undefined) process.on("SIGHUP", () => started.reload?.());
    if (stopRequested !== undefined) void app.close(stopRequested);
    const code = await app.done;
    app = undefined;
    exitSoon(code);
  }, crash);
}
