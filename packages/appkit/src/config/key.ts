import { resolve } from "node:path";

export const MIN_KEY_LENGTH = 16;
/** SRT's minimum, and ours (the same number as `MIN_PASSPHRASE_LENGTH` in @udpcam/protocol/node). */
export const MIN_PASSPHRASE_LENGTH = 10;

/**
 * The secret both ends share: a raw key (--key, --key-file: used as it is) or a passphrase
 * (--passphrase, --passphrase-file: stretched with scrypt). `file` is where it was read, absolute,
 * for SIGHUP to read again; undefined when it came from a flag, the environment or the config file.
 */
export interface KeySpec {
  readonly kind: "key" | "passphrase";
  readonly secret: string;
  readonly file: string | undefined;
}

export interface KeyOptions {
  readonly key: string | undefined;
  readonly keyFile: string | undefined;
  readonly passphrase: string | undefined;
  readonly passphraseFile: string | undefined;
}

const FLAG = { key: "--key", passphrase: "--passphrase" } as const;
const MIN = { key: MIN_KEY_LENGTH, passphrase: MIN_PASSPHRASE_LENGTH } as const;

/** Reads a key or passphrase file: the secret, or one line saying what is wrong. */
export function readKeyFile(
  kind: KeySpec["kind"],
  path: string,
  readFile: (path: string) => string,
): { readonly secret: string } | { readonly error: string } {
  const flag = `${FLAG[kind]}-file`;
  let secret: string;
  try {
    secret = readFile(path).trim();
  } catch (error) {
    return { error: `${flag}: cannot read ${path} (${(error as Error).message})` };
  }
  if (secret.length < MIN[kind])
    return {
      error: `${flag}: the ${kind} in ${path} is shorter than ${MIN[kind]} characters, use a longer ${kind === "key" ? "secret" : "passphrase"}`,
    };
  return { secret };
}

/** The shared secret from --key, --key-file, --passphrase or --passphrase-file (a file wins over its flag); problems go to errors. */
export function resolveKeySpec(
  options: KeyOptions,
  input: { readonly cwd: string; readonly readFile: (path: string) => string },
  errors: string[],
): KeySpec | undefined {
  const hasKey = options.key !== undefined || options.keyFile !== undefined;
  const hasPassphrase = options.passphrase !== undefined || options.passphraseFile !== undefined;
  if (hasKey && hasPassphrase) {
    errors.push(
      "--passphrase: give a key (--key, --key-file) or a passphrase (--passphrase, --passphrase-file), not both",
    );
    return undefined;
  }
  const kind = hasPassphrase ? "passphrase" : "key";
  const file = kind === "key" ? options.keyFile : options.passphraseFile;
  if (file === undefined) {
    const secret = kind === "key" ? options.key : options.passphrase;
    return secret === undefined ? undefined : { kind, secret, file: undefined };
  }
  const path = resolve(input.cwd, file);
  const read = readKeyFile(kind, path, input.readFile);
  if ("error" in read) {
    errors.push(read.error.replace(path, file));
    return undefined;
  }
  return { kind, secret: read.secret, file: path };
}

/** The shared key from --key or --key-file (the file wins); problems go to errors. */
export function resolveKey(
  options: { readonly key: string | undefined; readonly keyFile: string | undefined },
  input: { readonly cwd: string; readonly readFile: (path: string) => string },
  errors: string[],
): string | undefined {
  return resolveKeySpec({ ...options, passphrase: undefined, passphraseFile: undefined }, input, errors)?.secret;
}

/**
 * On SIGHUP: the secret read again from the file it came from (same kind, same checks as at start),
 * or the one line to log when the file became unreadable or invalid (the caller keeps the old key).
 */
export function rereadKeySpec(
  spec: KeySpec,
  readFile: (path: string) => string,
): { readonly spec: KeySpec } | { readonly error: string } {
  if (spec.file === undefined) return { spec };
  const read = readKeyFile(spec.kind, spec.file, readFile);
  return "error" in read ? read : { spec: { ...spec, secret: read.secret } };
}
