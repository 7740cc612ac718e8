export { VideoError, type VideoErrorCode } from "./errors.js";
export {
  BYTES_PER_PIXEL,
  assertFrame,
  createFrame,
  frameByteLength,
  type Frame,
  type FrameMeta,
  type PixelFormat,
} from "./frame.js";
export { PATTERN_MIN_HEIGHT, PATTERN_MIN_WIDTH, renderPatternFrame } from "./source/pattern.js";
export { DEFAULT_JPEG_QUALITY, decodeJpeg, decodeJpegAsync, encodeJpeg, encodeJpegAsync } from "./codec/jpeg.js";
export { transcodeJpegAsync } from "./codec/transcode.js";
export { resizeFrame, resizeFrameAsync } from "./codec/resize.js";
export { DEFAULT_FPS, type FrameSource, type Pace, type SourceKind } from "./source/source.js";
export { openTestPattern, type TestPatternOptions } from "./source/test-pattern.js";
export { openCamera, type CameraOptions } from "./source/camera.js";
export { openVideoFile, type VideoFileOptions } from "./source/video-file.js";
export {
  openJpegSource,
  openSource,
  parseSourceSpec,
  type SourceOptions,
  type SourceSpec,
} from "./source/open-source.js";
export {
  DEFAULT_OPEN_TIMEOUT_MS,
  RECONNECT_BACKOFF_MS,
  openNetworkCamera,
  type NetworkCameraEvent,
  type NetworkCameraOptions,
  type NetworkCounters,
} from "./source/network-camera.js";
export { isNetworkUrl, redactUrl } from "./source/url.js";
export type { JpegFrame, JpegSource } from "./source/jpeg-frame.js";
export {
  checkRecording,
  openRecording,
  type RecordInput,
  type Recording,
  type RecordingOptions,
  type RecordingTotals,
} from "./record/recording.js";
export { AUTO_FOURCC, DEFAULT_FOURCC, SUPPORTED_FOURCCS, chooseFourcc, recordingStoresJpeg } from "./record/formats.js";
export { streamRecordingPath } from "./record/file-names.js";
// The OpenCV recorder on its own (frames only, no pass-through): tests in packages/testkit record clips with it.
export { openRecorder, type Recorder, type RecorderOptions, type RecorderStats } from "./record/recorder.js";
export { FrameMemory, FrameMemorySlots, FRAME_MEMORY_BYTES } from "./record/frame-memory.js";
export { openDisplay, type Display, type DisplayMode, type DisplayOptions } from "./display/display.js";
export {
  parseDisplay,
  probeDisplay,
  type DisplayAddress,
  type DisplayProbe,
  type DisplayProbeOptions,
} from "./display/xdisplay.js";
export { loadOpencv, opencvLoaded, opencvVersion, useNativeOpencvOnly } from "./opencv.js";
