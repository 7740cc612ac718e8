import { parseArgs } from "node:util";
import type { ValueSchema } from "./values.js";

export interface OptionDef<T = unknown> {
  readonly schema: ValueSchema<T>;
  /** Raw default (validated like any other value); undefined leaves the option unset. */
  readonly default: unknown;
  readonly help: string;
  /** Placeholder in --help, e.g. "N" or "FILE"; a switch has none. */
  readonly value?: string;
  /** A switch takes no value on the command line (--foo means true). */
  readonly isSwitch?: boolean;
  /** Never echoed back in messages (keys). */
  readonly secret?: boolean;
}

export type OptionTable = Readonly<Record<string, OptionDef>>;

export type ConfigOf<T extends OptionTable> = {
  readonly [K in keyof T]: T[K] extends OptionDef<infer V> ? V : never;
};

export type Source = "default" | "config file" | "environment" | "command line";

export interface ConfigInput {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads the --config file; throws with a message when it cannot. */
  readonly readFile: (path: string) => string;
}

export type LoadResult<T extends OptionTable> =
  | { readonly kind: "ok"; readonly config: ConfigOf<T>; readonly sources: Readonly<Record<keyof T, Source>> }
  | { readonly kind: "help" }
  | { readonly kind: "errors"; readonly errors: readonly string[] };

/** A secret's problem without its value: what to use instead (the text after the last ", use "). */
function secretProblem(message: string): string {
  const use = message.lastIndexOf(", use ");
  return use < 0 ? "invalid value (not shown)" : `invalid value (not shown), ${message.slice(use + 2)}`;
}

export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export function envName(prefix: string, key: string): string {
  return `${prefix}_${flagName(key).replace(/-/g, "_").toUpperCase()}`;
}

/**
 * Layers defaults < config file (JSON) < environment (PREFIX_*) < flags, then
 * validates every option, returning all problems at once as
 * "--flag (from source): what is wrong, what is allowed".
 */
export function loadConfig<T extends OptionTable>(table: T, envPrefix: string, input: ConfigInput): LoadResult<T> {
  // pnpm passes the "--" of `pnpm start -- --help` through to the program.
  const argv = input.argv[0] === "--" ? input.argv.slice(1) : input.argv;
  const keys = Object.keys(table);
  const errors: string[] = [];

  let flags: Record<string, string | boolean | undefined>;
  try {
    const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
      help: { type: "boolean", short: "h" },
      config: { type: "string" },
    };
    for (const key of keys) options[flagName(key)] = { type: table[key]?.isSwitch === true ? "boolean" : "string" };
    flags = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    return { kind: "errors", errors: [`${describeArgvError(error)}; see --help`] };
  }
  if (flags.help === true) return { kind: "help" };

  const fileValues = readConfigFile(flags.config ?? input.env[`${envPrefix}_CONFIG`], input, errors);
  for (const name of Object.keys(fileValues)) {
    if (!keys.includes(name)) errors.push(`config file: unknown key "${name}", use one of: ${keys.join(", ")}`);
  }

  const config: Record<string, unknown> = {};
  const sources: Record<string, Source> = {};
  for (const key of keys) {
    const def = table[key] as OptionDef;
    const fromFlag = flags[flagName(key)];
    const fromEnv = input.env[envName(envPrefix, key)];
    const [raw, source]: [unknown, Source] =
      fromFlag !== undefined
        ? [fromFlag, "command line"]
        : fromEnv !== undefined
          ? [fromEnv, "environment"]
          : key in fileValues
            ? [fileValues[key], "config file"]
            : [def.default, "default"];
    sources[key] = source;
    const result = def.schema.safeParse(raw);
    if (result.success) {
      config[key] = result.data;
    } else {
      const where =
        source === "environment"
          ? ` (from ${envName(envPrefix, key)})`
          : source === "config file"
            ? ` (from "${key}" in the config file)`
            : "";
      for (const issue of result.error.issues) {
        errors.push(
          `--${flagName(key)}${where}: ${def.secret === true ? secretProblem(issue.message) : issue.message}`,
        );
      }
    }
  }
  if (errors.length > 0) return { kind: "errors", errors };
  return { kind: "ok", config: config as ConfigOf<T>, sources: sources as Record<keyof T, Source> };
}

function readConfigFile(
  path: string | boolean | undefined,
  input: ConfigInput,
  errors: string[],
): Record<string, unknown> {
  if (typeof path !== "string") return {};
  let text: string;
  try {
    text = input.readFile(path);
  } catch (error) {
    errors.push(`--config: cannot read ${path} (${(error as Error).message})`);
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
    errors.push(`--config: ${path} must hold a JSON object like {"port": 9505}`);
  } catch (error) {
    errors.push(`--config: ${path} is not valid JSON (${(error as Error).message})`);
  }
  return {};
}

function describeArgvError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown option ${unknown[1]}`;
  const positional = /Unexpected argument '([^']+)'/.exec(message);
  if (positional) return `unexpected argument "${positional[1]}" (options look like --name value)`;
  const ambiguous = /Option '(?:-\w, )?(--[^' ]+)[^']*' argument is ambiguous/.exec(message);
  if (ambiguous)
    return `${ambiguous[1]}: a value that starts with "-" must be joined with "=", like ${ambiguous[1]}=-1`;
  const missing = /Option '([^']+?)(?: <value>)?' argument missing/.exec(message);
  if (missing) return `${(missing[1] ?? "").replace(/^-\w, /, "")} needs a value`;
  return message.split("\n")[0] ?? message;
}
