// Compiles native/ (binding.gyp: the libjpeg addon, and the MPEG-4 writer on FFmpeg's libraries and libyuv) with node-gyp, the copy that
// @u4/opencv4nodejs brings. Debian's Node ships its headers under /usr: node-gyp then needs no download.
// Part of the package's build; turbo caches build/Release with dist.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const fromBinding = createRequire(createRequire(join(root, "package.json")).resolve("@u4/opencv4nodejs"));
const nodeGyp = fromBinding.resolve("node-gyp/bin/node-gyp.js");
// node-gyp reads npm_config_nodedir (scripts/opencv-env.sh sets it) from the environment by itself.
const nodedir = existsSync("/usr/include/node/node.h") ? "/usr" : undefined;
const args = [
  nodeGyp,
  "rebuild",
  "--loglevel=error",
  "--jobs=max",
  ...(nodedir === undefined ? [] : [`--nodedir=${nodedir}`]),
];
const result = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit" });
if (result.status !== 0) {
  process.stderr.write(
    "build-native: node-gyp failed (the C compiler and the headers of libjpeg, FFmpeg and libyuv come from scripts/setup.sh)\n",
  );
  process.exit(result.status ?? 1);
}
