export { VideoError, type VideoErrorCode } from "./errors.js";
export { BYTES_PER_PIXEL, assertFrame, createFrame, frameByteLength, type Frame, type FrameMeta, type PixelFormat } from "./frame.js";
export { PATTERN_MIN_HEIGHT, PATTERN_MIN_WIDTH, renderPatternFrame } from "./pattern.js";
export {
  DEFAULT_JPEG_QUALITY,
  decodeJpeg,
  decodeJpegAsync,
  encodeJpeg,
  encodeJpegAsync,
  resizeFrame,
  resizeFrameAsync,
} from "./codec.js";
export {
  DEFAULT_FPS,
  openCamera,
  openSource,
  openTestPattern,
  openVideoFile,
  parseSourceSpec,
  type CameraOptions,
  type FrameSource,
  type Pace,
  type SourceOptions,
  type SourceSpec,
  type TestPatternOptions,
  type VideoFileOptions,
} from "./sources.js";
export { DEFAULT_FOURCC, SUPPORTED_FOURCCS, openRecorder, type Recorder, type RecorderOptions, type RecorderStats } from "./recorder.js";
export { segmentPath } from "./recorder-encoder.js";
export {
  MJPEG_AVI_DEFAULT_MAX_FILE_BYTES,
  MJPEG_AVI_MAX_FILE_BYTES,
  MJPEG_AVI_MIN_FILE_BYTES,
  openMjpegAviWriter,
  type MjpegAviOptions,
  type MjpegAviStats,
  type MjpegAviWriter,
} from "./mjpeg-avi.js";
export { openDisplay, type Display, type DisplayMode, type DisplayOptions } from "./display.js";
export { parseDisplay, probeDisplay, type DisplayAddress, type DisplayProbe, type DisplayProbeOptions } from "./xdisplay.js";
export { opencvVersion } from "./opencv.js";
