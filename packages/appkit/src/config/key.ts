import { resolve } from "node:path";

export const MIN_KEY_LENGTH = 16;

/** The shared key from --key or --key-file (the file wins); problems go to errors. */
export function resolveKey(
  options: { readonly key: string | undefined; readonly keyFile: string | undefined },
  input: { readonly cwd: string; readonly readFile: (path: string) => string },
  errors: string[],
): string | undefined {
  if (options.keyFile === undefined) return options.key;
  let key: string;
  try {
    key = input.readFile(resolve(input.cwd, options.keyFile)).trim();
  } catch (error) {
    errors.push(`--key-file: cannot read ${options.keyFile} (${(error as Error).message})`);
    return undefined;
  }
  if (key.length < MIN_KEY_LENGTH) {
    errors.push(
      `--key-file: the key in ${options.keyFile} is shorter than ${MIN_KEY_LENGTH} characters, use a longer secret`,
    );
  }
  return key;
}
