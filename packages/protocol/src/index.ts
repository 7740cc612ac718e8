export { type Authenticator, type PayloadCipher } from "./auth.js";
export { createSaltSchedule, writeNonce, MAX_FRAMES_PER_SALT, NONCE_BYTES, type SaltSchedule } from "./encryption.js";
export { Codec, CODEC_WIRE } from "./codec.js";
export { ProtocolError, ProtocolErrorCode, PROTOCOL_ERROR_CODES } from "./errors.js";
export { type FrameMetadata } from "./frame.js";
export { encodeParity, recoverData, MAX_FEC_GROUP_DATA, MAX_FEC_GROUP_PARITY } from "./fec.js";
export {
  decodeDatagram,
  isDecodeFailure,
  tryDecodeDatagram,
  encodeDatagram,
  looksLikeV1,
  payloadLength,
  DEFAULT_MAX_DATAGRAM_BYTES,
  FLAG_ENCRYPTED,
  FLAG_TAGGED,
  FLAG_WINDOW,
  HEADER_BYTES,
  SALT_BYTES,
  MAX_DATAGRAM_BYTES,
  Offset,
  VERSION,
  type Datagram,
  type DecodeFailure,
  type DatagramHeader,
} from "./header.js";
export {
  createLegacyReassembler,
  decodeLegacyDatagram,
  tryDecodeLegacyDatagram,
  encodeLegacyDatagram,
  looksLikeLegacyDatagram,
  packetizeLegacyFrame,
  LEGACY_CHUNK_BYTES,
  LEGACY_CHUNK_COUNT,
  LEGACY_DATAGRAM_BYTES,
  LEGACY_FRAME_BYTES,
  LEGACY_FRAME_HEIGHT,
  LEGACY_FRAME_WIDTH,
  LEGACY_INITIAL_FILL,
  type LegacyCounters,
  type LegacyDatagram,
  type LegacyDroppedEvent,
  type LegacyEvent,
  type LegacyFrameEvent,
  type LegacyMode,
  type LegacyReassembler,
  type LegacyReassemblerOptions,
} from "./legacy.js";
export {
  packetizeFrame,
  packetizeFrameParts,
  DEFAULT_FEC_OVERHEAD,
  MIN_DATAGRAM_BYTES,
  type DatagramParts,
  type FrameToSend,
  type PacketizeOptions,
  type PartsOptions,
} from "./packetize.js";
export {
  createReassembler,
  DEFAULT_FRAME_TIMEOUT_MS,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_FRAMES_IN_FLIGHT,
  DEFAULT_MAX_STREAMS,
  DEFAULT_STREAM_TIMEOUT_MS,
  DEFAULT_LATENCY_MS,
  RETAIN_MIN_CHUNK_BYTES,
  type DropReason,
  type DroppedEvent,
  type FrameEvent,
  type Reassembler,
  type ReassemblerCounters,
  type ReassemblerOptions,
  type ReassemblyEvent,
  type StreamEndedEvent,
  type StreamStartedEvent,
} from "./reassembler.js";
export { admitStream, type Admission, type AdmissionEntry, type RefusalCause } from "./stream-admission.js";
export {
  serial16Add,
  serial16Diff,
  serialAdd,
  serialCompare,
  serialDiff,
  serialNewer,
  serialOlderOrEqual,
  SERIAL_MODULUS,
} from "./serial.js";
export {
  chunkCount,
  chunkLength,
  chunkOffset,
  fecLayout,
  groupDataCount,
  parityCount,
  DEFAULT_FEC_GROUP_SIZE,
  MAX_CHUNKS_PER_FRAME,
  type FecLayout,
} from "./slots.js";
export {
  decodeRtpJpeg,
  encodeRtpJpeg,
  isRtpDecodeFailure,
  isSupportedRtpJpegType,
  tryDecodeRtpJpeg,
  RtpJpegOffset,
  RtpOffset,
  RTP_HEADER_BYTES,
  RTP_JPEG_CLOCK_HZ,
  RTP_JPEG_HEADER_BYTES,
  RTP_JPEG_MAX_SCAN_BYTES,
  RTP_JPEG_MAX_SIDE,
  RTP_JPEG_PAYLOAD_TYPE,
  RTP_VERSION,
  type RtpJpegPacket,
} from "./rtp-jpeg-header.js";
export {
  packetizeRtpJpeg,
  rtpTimestamp,
  MIN_RTP_DATAGRAM_BYTES,
  RTP_JPEG_SENT_Q,
  type RtpJpegFrameToSend,
  type RtpPacketizeOptions,
} from "./rtp-jpeg-packetize.js";
export {
  createRtpJpegReassembler,
  DEFAULT_RTP_MAX_BUFFERED_BYTES,
  DEFAULT_RTP_MAX_FRAMES_IN_FLIGHT,
  DEFAULT_RTP_MAX_STREAMS,
  DEFAULT_RTP_REORDER_WINDOW,
  type RtpJpegCounters,
  type RtpJpegEvent,
  type RtpJpegFrameEvent,
  type RtpJpegReassembler,
  type RtpJpegReassemblerOptions,
} from "./rtp-jpeg-reassembler.js";
export { parseRtpJpegSource, type RtpJpegSource } from "./jpeg-parse.js";
export { jfifHeader, type JfifLayout } from "./jfif.js";
export { scaledQuantTables, STANDARD_HUFFMAN_TABLES, ZIGZAG, type HuffmanTable } from "./jpeg-tables.js";
export { rtpJpegSdp, type RtpJpegSdpOptions } from "./sdp.js";
export {
  createWindowFecEncoder,
  looksLikeRepair,
  MAX_WINDOW_SOURCES,
  REPAIR_HEADER_BYTES,
  type WindowFecEncoder,
  type WindowFecEncoderOptions,
} from "./window-fec.js";
export {
  encodeNack,
  isNackFailure,
  looksLikeNack,
  tryDecodeNack,
  FLAG_NACK,
  MAX_NACK_ENTRIES,
  NACK_ENTRY_BYTES,
  NACK_HEADER_BYTES,
  WHOLE_FRAME,
  type Nack,
  type NackEntry,
  type NackFailure,
} from "./nack.js";
export {
  createNackTracker,
  DEFAULT_NACK_REORDER_DATAGRAMS,
  DEFAULT_NACK_REORDER_MS,
  DEFAULT_NACK_RETRY_MS,
  type NackRequest,
  type NackTracker,
  type NackTrackerCounters,
  type NackTrackerOptions,
} from "./nack-tracker.js";
export {
  createRetransmitStore,
  DEFAULT_RETRANSMIT_MAX_BYTES,
  DEFAULT_RETRANSMIT_MAX_SHARE,
  type RetransmitCounters,
  type RetransmitStore,
  type RetransmitStoreOptions,
} from "./retransmit-store.js";
