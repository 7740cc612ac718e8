export { UserError } from "./errors.js";
export * from "./config/values.js";
export {
  loadConfig,
  flagName,
  envName,
  type OptionDef,
  type OptionTable,
  type ConfigOf,
  type ConfigInput,
  type LoadResult,
  type Source,
} from "./config/load.js";
export { renderHelp, type HelpText } from "./config/help.js";
export { createLogger, LOG_LEVELS, type Logger, type LogFormat, type LogLevel } from "./logger.js";
export { StatusLine, type StatusStream } from "./status-line.js";
export { requestBufferSizes, formatBytes, type BufferSizes } from "./socket-buffers.js";
export { runApp, type ProcessIo, type RunningApp } from "./run.js";
export {
  readKeyFile,
  resolveKey,
  resolveKeySpec,
  rereadKeySpec,
  MIN_KEY_LENGTH,
  MIN_PASSPHRASE_LENGTH,
  type KeyOptions,
  type KeySpec,
} from "./config/key.js";
export { commonOptions, checkLegacyKey, DEFAULT_PORT } from "./config/common-options.js";
export { RateMeter } from "./rate-meter.js";
export { IPV4_ADDRESS, isIpv4Address, isMulticastIpv4 } from "./ipv4.js";
export { runConfiguredApp, type AppDeps, type ConfiguredApp, type ParsedConfig } from "./run-configured.js";
