/**
 * `@udpcam/video/testing`: instruments for tests and benchmarks, kept out of the
 * package's public index. Reading the test pattern's code bands back, and comparing
 * frames by PSNR. The pattern itself (`renderPatternFrame`, the source `--source
 * test`) is part of the main entry point.
 */
export {
  PATTERN_CODE_BLOCKS,
  PATTERN_NUMBER_BITS,
  PATTERN_NUMBER_MODULUS,
  patternBandHeight,
  patternCodeBits,
} from "../source/pattern-code.js";
export { inspectPatternFrame, readPatternFrameNumber, type PatternInspection } from "./pattern-inspection.js";
export { psnr } from "./psnr.js";
