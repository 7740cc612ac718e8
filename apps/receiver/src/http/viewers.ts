/**
 * Viewers of the live view: a page's WebSocket or a multipart MJPEG response.
 * Each is offered every new frame of its stream and sends it only when its
 * socket has nothing left to write; otherwise the frame is skipped and counted.
 * So a slow or stuck viewer holds at most one frame in this process, and never
 * slows the others (nor anything upstream: the live-view sink never waits).
 */
import type { ServerResponse } from "node:http";
import type { WebSocket } from "ws";
import type { LiveFrame, LiveViewer } from "../sinks/live-view-sink.js";
import { encodeFrameMessage } from "./frame-message.js";

export type ViewerKind = "websocket" | "mjpeg";

export interface ViewerCounters {
  /** "ws-1", "mjpeg-2": unique for the receiver's run. */
  readonly id: string;
  readonly kind: ViewerKind;
  readonly streamId: number;
  framesSent: number;
  /** Frames skipped because the viewer's socket was still busy with an earlier one. */
  framesDropped: number;
}

/** Every viewer connected now, and the totals of those that left. */
export class ViewerRegistry {
  readonly #live = new Set<ViewerCounters>();
  readonly departed: Record<ViewerKind, { framesSent: number; framesDropped: number }> = {
    websocket: { framesSent: 0, framesDropped: 0 },
    mjpeg: { framesSent: 0, framesDropped: 0 },
  };
  #next = 1;

  add(kind: ViewerKind, streamId: number): ViewerCounters {
    const counters: ViewerCounters = {
      id: `${kind === "websocket" ? "ws" : kind}-${this.#next++}`,
      kind,
      streamId,
      framesSent: 0,
      framesDropped: 0,
    };
    this.#live.add(counters);
    return counters;
  }

  remove(counters: ViewerCounters): void {
    if (!this.#live.delete(counters)) return;
    this.departed[counters.kind].framesSent += counters.framesSent;
    this.departed[counters.kind].framesDropped += counters.framesDropped;
  }

  live(): ViewerCounters[] {
    return [...this.#live];
  }
}

// One message per frame, shared by every WebSocket viewer of it.
const messages = new WeakMap<LiveFrame, Uint8Array>();

export function frameMessage(frame: LiveFrame): Uint8Array {
  let message = messages.get(frame);
  if (message === undefined) {
    message = encodeFrameMessage(frame, frame.jpeg);
    messages.set(frame, message);
  }
  return message;
}

export class WebSocketViewer implements LiveViewer {
  constructor(
    private readonly socket: WebSocket,
    readonly counters: ViewerCounters,
  ) {}

  offer(frame: LiveFrame): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    // Anything still buffered means the previous frame is not out yet: this one would only queue.
    if (this.socket.bufferedAmount > 0) {
      this.counters.framesDropped++;
      return;
    }
    this.socket.send(frameMessage(frame), { binary: true });
    this.counters.framesSent++;
  }
}

export const MJPEG_BOUNDARY = "udpcamframe";

export class MjpegViewer implements LiveViewer {
  constructor(
    private readonly response: ServerResponse,
    readonly counters: ViewerCounters,
  ) {}

  /** The response's head; parts follow. */
  start(): void {
    this.response.writeHead(200, {
      "Content-Type": `multipart/x-mixed-replace; boundary=${MJPEG_BOUNDARY}`,
      "Cache-Control": "no-store",
      Connection: "close",
    });
    // Headers now, not with the first part: a client sees the stream open before any frame.
    this.response.flushHeaders();
  }

  offer(frame: LiveFrame): void {
    const response = this.response;
    if (response.destroyed || response.writableEnded) return;
    // write() returned false for an earlier part and 'drain' has not come: skip.
    if (response.writableNeedDrain) {
      this.counters.framesDropped++;
      return;
    }
    response.cork();
    response.write(
      `--${MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${frame.jpeg.byteLength}\r\nX-Frame-Number: ${frame.frameNumber}\r\nX-Capture-Time: ${frame.captureTime}\r\n\r\n`,
    );
    response.write(frame.jpeg);
    response.write("\r\n");
    process.nextTick(() => response.uncork());
    this.counters.framesSent++;
  }
}
