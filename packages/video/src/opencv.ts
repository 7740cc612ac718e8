/**
 * The one place that loads `@u4/opencv4nodejs`, at its first use. Everything else imports `cv` from here.
 *
 * Loading the binding must not print anything: its build helper `@u4/opencv-build`
 * logs colored `Info:` lines (and `Error:` lines when the current folder has no
 * package.json) unless its static `Log.silence` switch is set first. OpenCV's own
 * logger, FFmpeg's and Qt's are quieted through their environment variables, unless
 * the user set them (so `OPENCV_LOG_LEVEL=DEBUG` still works for debugging).
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type * as OpenCV from "@u4/opencv4nodejs";

export type { Mat } from "@u4/opencv4nodejs";

function quietDefault(name: string, value: string): void {
  if (process.env[name] === undefined) process.env[name] = value;
}

// OpenCV reads this lazily, at its first log line: setting it before loading is enough.
quietDefault("OPENCV_LOG_LEVEL", "SILENT");
// FFmpeg's own log (e.g. "[mpeg4 @ 0x...] Error at MB: 340" reading a damaged file): AV_LOG_QUIET.
quietDefault("OPENCV_FFMPEG_LOGLEVEL", "-8");
// Qt reads this when imshow creates its application (QStandardPaths warnings and the like).
quietDefault("QT_LOGGING_RULES", "*=false");
// The binding is compiled against the system's OpenCV (scripts/opencv-env.sh). Without this,
// loading it looks for the build helper's own OpenCV build, which an install restored from
// pnpm's side-effects cache does not have, and throws "No build found".
quietDefault("OPENCV4NODEJS_DISABLE_AUTOBUILD", "1");

const req = createRequire(import.meta.url);
let binding: typeof OpenCV | undefined;
let nativeOnly = false;

/**
 * The binding's compiled addon by itself, as its loader (`cjs/lib/cvloader.js`) finds it: a
 * Debug build if there is one, else Release, with its `*Async` functions and methods made to
 * return promises by the package's own `promisify.js` (one small file, some 5 ms), as the package
 * does. Its classes and constants are the same objects the package hands out; what is missing is
 * the drawing and matching helpers of `ext/` (`drawTextBox`, `toMatTypeName`, ...).
 */
function loadNativeAddon(cvEntry: string): typeof OpenCV {
  const lib = dirname(cvEntry);
  const build = join(lib, "..", "..", "build");
  const debug = join(build, "Debug", "opencv4nodejs.node");
  const addon = req(existsSync(debug) ? debug : join(build, "Release", "opencv4nodejs.node")) as typeof OpenCV;
  const promisify = (req(join(lib, "promisify.js")) as { default: (cv: typeof OpenCV) => typeof OpenCV }).default;
  return promisify(addon);
}

function loadBinding(): typeof OpenCV {
  if (binding === undefined) {
    const cvEntry = req.resolve("@u4/opencv4nodejs");
    if (nativeOnly) {
      binding = loadNativeAddon(cvEntry);
    } else {
      (createRequire(cvEntry)("@u4/opencv-build") as { Log: { silence: boolean } }).Log.silence = true;
      binding = req("@u4/opencv4nodejs") as typeof OpenCV;
    }
  }
  return binding;
}

/**
 * Makes `cv` load only the compiled addon (and the package's promisify step), not the rest of the
 * package's JavaScript, which costs a process some 0.13 s of CPU and 18 MB more to load (its build
 * helper and the `ext/` helpers: measured by hand, docs/benchmarks/receiver.md and efficiency.md).
 * For the encoder process (`VideoWriter`, `Mat.resize`, `Size`, constants) and the sender (captures,
 * `imencodeAsync`, `resizeAsync`, constants); nothing that needs an `ext/` helper may run in a
 * process that calls this. Throws if OpenCV is loaded already.
 */
export function useNativeOpencvOnly(): void {
  if (binding !== undefined) throw new Error("useNativeOpencvOnly: OpenCV is loaded already");
  nativeOnly = true;
}

/**
 * The binding, loaded at its first use rather than at import: OpenCV, FFmpeg and Qt
 * take some 100 MB of a process's memory, and a receiver that stores JPEG frames as
 * they arrive, with no window, never needs them.
 */
export const cv: typeof OpenCV = new Proxy({} as typeof OpenCV, {
  get: (_target, property) => Reflect.get(loadBinding(), property) as unknown,
  has: (_target, property) => Reflect.has(loadBinding(), property),
});

/**
 * Loads the binding now (some 0.4 s of CPU), for a caller that knows it will need it soon
 * and would rather not stall then: a receiver that decodes every JPEG frame it records.
 */
export function loadOpencv(): void {
  loadBinding();
}

/** Whether anything in this process has used OpenCV yet (for tests of the lazy load). */
export function opencvLoaded(): boolean {
  return binding !== undefined;
}

/** `cv::CAP_PROP_BACKEND`, which the binding does not export; `VideoWriter.get` of it is -1 when not opened. */
export const CAP_PROP_BACKEND = 42;

/** OpenCV's version, e.g. "4.6.0". */
export function opencvVersion(): string {
  const v = cv.version;
  return `${v.major}.${v.minor}.${v.revision}`;
}

/**
 * Points Qt (which creates its application at the first window) at the display that
 * was probed, so the window opens where the check said a server answers.
 */
export function useDisplay(display: string, xauthority: string | undefined): void {
  process.env.DISPLAY = display;
  if (xauthority !== undefined) process.env.XAUTHORITY = xauthority;
}
