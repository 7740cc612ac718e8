export { NETSIM_CLI, RECEIVER_MAIN, REPO_ROOT, SEED_CLIENT, SEED_SERVER, SENDER_MAIN, SYSTEM_PYTHON } from "./paths.js";
export { freePort, readJson, tempDir, waitForFile, waitForUdpPort } from "./files.js";
export { killAllChildren, spawnChild, type Child, type ChildOptions } from "./child.js";
export { RECEIVER_LISTENING, receiverArgv, senderArgv, startReceiver, startSender, untilListening } from "./apps.js";
export {
  loopbackReceiveArgs,
  loopbackTargetArgs,
  receiveArgs,
  sourceArgs,
  type ReceiveOptions,
  type SourceOptions,
} from "./args.js";
export {
  LAN_MULTICAST_ROUTE,
  addIngressLoss,
  createLan,
  ingressLossCount,
  spawnIn,
  startReceiverIn,
  startSenderIn,
  type Lan,
  type LanHost,
  type LanResult,
} from "./netns.js";
export {
  legacyCounters,
  readReceiverStats,
  rtpCounters,
  readSenderStats,
  v1Counters,
  type LegacyCounters,
  type RtpCounters,
  type ReceiverStats,
  type SenderStats,
  type V1Counters,
} from "./stats.js";
export {
  DEFAULT_BANDS,
  INTACT_MIN_PSNR,
  bandPsnrs,
  compareRecordedJpegs,
  ffprobeFrameCount,
  ffprobeFrameRate,
  inspectFrame,
  inspectRecording,
  isIntact,
  isStrictlyIncreasing,
  judgeRecording,
  patternJpeg,
  runsOf,
  writePatternClip,
  type InspectOptions,
  type JpegBytesVerdict,
  type RecordedFrame,
  type RecordingVerdict,
} from "./recording.js";
