import { createRequire } from "node:module";
import { pino, type DestinationStream, type Logger } from "pino";
import type pinoPretty from "pino-pretty";

/** pino-pretty is loaded only for the pretty format (some 1 MB of a process's memory when logs are JSON). */
const requireLazily = createRequire(import.meta.url);

export type { Logger };
export type LogFormat = "pretty" | "json";
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  readonly name: string;
  readonly level: LogLevel;
  readonly format: LogFormat;
  readonly colors: boolean;
  /** Where lines go; default stderr, written synchronously so the last lines before a crash are kept. */
  readonly destination?: DestinationStream;
}

/** The one logger of a process, on stderr (stdout is kept for summaries). */
export function createLogger(options: LoggerOptions): Logger {
  const base = { name: options.name, level: options.level, base: undefined };
  const destination = options.destination ?? pino.destination({ fd: 2, sync: true });
  if (options.format === "json") return pino(base, destination);
  const pretty = requireLazily("pino-pretty") as typeof pinoPretty;
  const stream = pretty({
    destination,
    sync: true,
    colorize: options.colors,
    ignore: "name",
    translateTime: "HH:MM:ss.l",
    hideObject: true,
  });
  return pino(base, stream);
}
