/**
 * The package's libjpeg addon (native/jpeg_transcode.c), loaded at its first use: JPEG re-encoded without
 * leaving YCbCr (`transcode`), and bgr24 pixels encoded as OpenCV's imencode(".jpg") encodes them, byte for
 * byte (`encodeBgr`), without loading OpenCV; a socket's send buffer set (`setSendBuffer`), which Node does
 * not offer for its pipes; and memory shared with a child process (`createSharedMemory`, `mapSharedMemory`:
 * the recorder's frame slots, `record/frame-slots.ts`); a UDP socket read in batches (`openDatagramReader`,
 * native/datagram_reader.c: `net/datagram-reader.ts`).
 */
import { createRequire } from "node:module";

export interface JpegAddon {
  transcode(jpeg: Buffer, quality: number): Promise<Buffer>;
  encodeBgr(bgr: Buffer, width: number, height: number, quality: number): Promise<Buffer>;
  /** SO_SNDBUF on socket `fd`: returns what the socket has then (Linux doubles the request), or -1 if it failed. */
  setSendBuffer(fd: number, bytes: number): number;
  /** A new, empty memfd (close-on-exec), or -1 where the kernel has none. */
  createSharedMemory(name: string): number;
  /** The first `bytes` of `fd`, mapped shared; unmapped once collected. Throws Error("SHARED_MEMORY: ...") if mmap fails. */
  mapSharedMemory(fd: number, bytes: number): ArrayBuffer;
  /** See native/datagram_reader.c; wrapped by net/datagram-reader.ts. */
  openDatagramReader(
    fd: number,
    slots: number,
    slotBytes: number,
    roundsPerWake: number,
    onBatch: (count: number) => void,
  ): NativeDatagramReader;
}

export interface NativeDatagramReader {
  readonly ring: ArrayBuffer;
  readonly meta: ArrayBuffer;
  close(): void;
}

const req = createRequire(import.meta.url);
let addon: JpegAddon | undefined;

export function jpegAddon(): JpegAddon {
  // Built by scripts/build-native.mjs into the package's build/Release (from src/codec or dist/codec alike).
  addon ??= req("../../build/Release/jpeg_transcode.node") as JpegAddon;
  return addon;
}
