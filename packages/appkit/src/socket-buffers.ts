import type { Socket } from "node:dgram";

export interface BufferSizes {
  readonly receive: number;
  readonly send: number;
}

/**
 * Asks the kernel for large socket buffers and reads back what it granted.
 * Linux caps requests at net.core.rmem_max / wmem_max and reports twice the
 * size it keeps for data, so the usable figure is half of what it reports.
 */
export function requestBufferSizes(socket: Socket, wanted: Partial<BufferSizes>): BufferSizes {
  if (wanted.receive !== undefined) socket.setRecvBufferSize(wanted.receive);
  if (wanted.send !== undefined) socket.setSendBufferSize(wanted.send);
  return {
    receive: Math.floor(socket.getRecvBufferSize() / 2),
    send: Math.floor(socket.getSendBufferSize() / 2),
  };
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  if (bytes >= 1 << 10) return `${(bytes / (1 << 10)).toFixed(0)} KiB`;
  return `${bytes} B`;
}
