/**
 * `@udpcam/appkit/net`: what a socket thread needs (the receiver's ingest worker), without the
 * option loader, the logger and their dependencies (zod, pino: some 19 MB of a thread's memory here).
 */
export { UserError } from "./errors.js";
export { requestBufferSizes, formatBytes, type BufferSizes } from "./socket-buffers.js";
export { IPV4_ADDRESS, isIpv4Address, isMulticastIpv4 } from "./ipv4.js";
