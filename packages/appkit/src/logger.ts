import { pino, type Logger } from "pino";
import pretty from "pino-pretty";

export type { Logger };
export type LogFormat = "pretty" | "json";
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The one logger of a process, on stderr (stdout is kept for summaries).
 * Writes are synchronous so the last lines before a crash are not lost.
 */
export function createLogger(options: { name: string; level: LogLevel; format: LogFormat; colors: boolean }): Logger {
  const base = { name: options.name, level: options.level, base: undefined };
  if (options.format === "json") return pino(base, pino.destination({ fd: 2, sync: true }));
  const stream = pretty({
    destination: 2,
    sync: true,
    colorize: options.colors,
    ignore: "name",
    translateTime: "HH:MM:ss.l",
    hideObject: true,
  });
  return pino(base, stream);
}
