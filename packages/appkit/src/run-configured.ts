import { readFileSync } from "node:fs";
import { createLogger, type LogFormat, type Logger, type LogLevel } from "./logger.js";
import { runApp, type RunningApp } from "./run.js";
import { StatusLine } from "./status-line.js";

export type ParsedConfig<C> =
  | { readonly kind: "ok"; readonly config: C }
  | { readonly kind: "help"; readonly text: string }
  | { readonly kind: "errors"; readonly errors: readonly string[] };

export interface AppDeps {
  readonly logger: Logger;
  readonly stdout: NodeJS.WritableStream;
  readonly status: StatusLine;
}

export interface ConfiguredApp<C extends { readonly logLevel: LogLevel; readonly logFormat: LogFormat }> {
  /** Shown before every message: "udpcam sender". */
  readonly name: string;
  /** The logger's name: "sender". */
  readonly component: string;
  readonly parse: (input: {
    readonly argv: readonly string[];
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly cwd: string;
    readonly readFile: (path: string) => string;
  }) => ParsedConfig<C>;
  readonly start: (config: C, deps: AppDeps) => Promise<RunningApp>;
}

/** An app's whole main: parse the config (help, or every error and exit 2), then run it. */
export function runConfiguredApp<C extends { readonly logLevel: LogLevel; readonly logFormat: LogFormat }>(
  app: ConfiguredApp<C>,
): void {
  runApp(app.name, async (io) => {
    const parsed = app.parse({
      argv: io.argv,
      env: io.env,
      cwd: io.cwd,
      readFile: (path) => readFileSync(path, "utf8"),
    });
    if (parsed.kind === "help") {
      io.stdout.write(parsed.text);
      return 0;
    }
    if (parsed.kind === "errors") {
      for (const error of parsed.errors) io.stderr.write(`${app.name}: ${error}\n`);
      return 2;
    }
    const { config } = parsed;
    const status = new StatusLine(io.stderr);
    const logger = createLogger({
      name: app.component,
      level: config.logLevel,
      format: config.logFormat,
      colors: io.stderr.isTTY,
      ...(status.enabled ? { destination: status.logDestination() } : {}),
    });
    return app.start(config, { logger, stdout: io.stdout, status });
  });
}
