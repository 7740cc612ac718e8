// Usage: node scripts/bundle-app.mjs [NAME=src/ENTRY.ts ...] (run in an app's folder, after tsc)
// Bundles an app's start path into dist/ with esbuild: dist/NAME.js per entry (main.js: what
// `node dist/main.js` and `pnpm start` run), and dist/chunk-*.js for what is imported lazily
// (`await import(...)`: the receiver's live view and relay), so a process compiles one file or
// a few instead of some 300 modules found and read one at a time (docs/benchmarks/receiver.md).
// tsc's dist/ stays beside it for the tests, the types and the other entry points.
//
// Modules that find files next to themselves (`import.meta.url`: the OpenCV binding, the JPEG
// addon, the encoder process's script, pino-pretty, the page's assets) keep finding them where
// they were: in a workspace package through `import.meta.resolve` of the package (so the bundle
// works in the repository and in a `pnpm deploy` folder alike), in the app relative to dist/.
// `new URL("./NAME.js", import.meta.url)` of an entry here (the receiver's ingest worker) is left
// alone: it names the bundled entry beside the chunk.
import { readFileSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { build } from "esbuild";

const appDir = process.cwd();
const outdir = join(appDir, "dist");
const entries = Object.fromEntries(
  process.argv.slice(2).map((arg) => {
    const [name, file] = arg.split("=");
    if (name === undefined || file === undefined) throw new Error(`bundle-app: use NAME=FILE, got ${arg}`);
    return [name, file];
  }),
);
const entryNames = new Set(Object.keys(entries));
const posix = (path) => path.split(sep).join("/");

/** The package a file belongs to: its folder, name and the file its "." export points to. */
function packageOf(file) {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    let manifest;
    try {
      manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    } catch {
      continue;
    }
    const dot = manifest.exports?.["."];
    const main = typeof dot === "string" ? dot : (dot?.default ?? dot?.import ?? manifest.main ?? "index.js");
    return { dir, name: manifest.name, main: resolve(dir, main) };
  }
  throw new Error(`bundle-app: no package.json above ${file}`);
}

/** `import.meta.url` as the module had it where it was written. */
function originalUrl(file) {
  const pkg = packageOf(file);
  if (pkg.dir === appDir) return `new URL(${JSON.stringify(posix(relative(outdir, file)))}, import.meta.url).href`;
  const rel = posix(relative(dirname(pkg.main), file));
  return `new URL(${JSON.stringify(rel.startsWith(".") ? rel : `./${rel}`)}, import.meta.resolve(${JSON.stringify(pkg.name)})).href`;
}

const keepModuleUrls = {
  name: "keep-module-urls",
  setup(esbuild) {
    esbuild.onLoad({ filter: /\.[cm]?[jt]s$/ }, (args) => {
      const source = readFileSync(args.path, "utf8");
      if (!source.includes("import.meta.url")) return undefined;
      const kept = [];
      const marked = source.replace(/new URL\("\.\/([\w-]+)\.js", import\.meta\.url\)/g, (whole, name) => {
        if (!entryNames.has(name)) return whole;
        kept.push(whole);
        return `__KEPT_URL_${kept.length - 1}__`;
      });
      const contents = marked
        .replaceAll("import.meta.url", originalUrl(args.path))
        .replace(/__KEPT_URL_(\d+)__/g, (_, i) => kept[Number(i)]);
      return { contents, loader: args.path.endsWith(".ts") ? "ts" : "js" };
    });
  },
};

for (const name of readdirSync(outdir)) if (/^chunk-.*\.js(\.map)?$/.test(name)) rmSync(join(outdir, name));

await build({
  entryPoints: entries,
  absWorkingDir: appDir,
  outdir,
  entryNames: "[name]",
  chunkNames: "chunk-[hash]",
  bundle: true,
  splitting: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  sourcesContent: false,
  legalComments: "none",
  logLevel: "warning",
  // Native code and what ws loads only if installed.
  external: ["@u4/opencv4nodejs", "bufferutil", "utf-8-validate"],
  // CommonJS dependencies (pino, ws, prom-client) call require() for Node's own modules.
  banner: {
    js: 'import { createRequire as __bundleRequire } from "node:module";\nconst require = __bundleRequire(import.meta.url);',
  },
  plugins: [keepModuleUrls],
});
