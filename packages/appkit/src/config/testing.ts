// What the apps' config tests share: an app's parser called with argv, environment and
// --config files held in memory, and the config taken out of an "ok" result.
import type { ParsedConfig } from "../run-configured.js";
import type { ConfigInput } from "./load.js";

type Env = Record<string, string | undefined>;
type Files = Record<string, string>;

export interface ConfigTester<C> {
  /** The parser's result for `argv`, `env` and the --config files in `files` (path -> text). */
  readonly parse: (argv: string[], env?: Env, files?: Files) => ParsedConfig<C>;
  /** The config of an "ok" result; throws with the result otherwise. */
  readonly config: (argv: string[], env?: Env, files?: Files) => C;
}

/** `parse` and `config` for an app's config parser, run as if from the directory `cwd`. */
export function configTester<C>(
  parseConfig: (input: ConfigInput & { readonly cwd: string }) => ParsedConfig<C>,
  cwd: string,
): ConfigTester<C> {
  const parse = (argv: string[], env: Env = {}, files: Files = {}): ParsedConfig<C> =>
    parseConfig({
      argv,
      env,
      cwd,
      readFile: (path) => {
        const text = files[path];
        if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
        return text;
      },
    });
  const config = (argv: string[], env: Env = {}, files: Files = {}): C => {
    const result = parse(argv, env, files);
    if (result.kind !== "ok") throw new Error(`expected a config, got ${JSON.stringify(result)}`);
    return result.config;
  };
  return { parse, config };
}
