/**
 * The live view's HTTP routes (WebSocket upgrades are in server.ts):
 *   GET /                    the page (tiles of every live stream)
 *   GET /assets/...          its stylesheet and modules
 *   GET /api/streams         per-stream figures, JSON
 *   GET /streams/ID.jpg      the newest frame of stream ID (8 hex digits)
 *   GET /streams/ID.mjpeg    multipart/x-mixed-replace, for <img>, VLC, ffplay, curl
 *   GET /metrics             Prometheus text
 *   GET /healthz             200 while the ingest thread is alive, else 503 (no token needed)
 * Everything but /healthz and /assets/ needs the token when one is set.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { StreamSnapshot } from "../delivery/stream-stats.js";
import type { StreamRefusals } from "../stats.js";
import type { LiveFrame, LiveViewSink } from "../sinks/live-view-sink.js";
import type { ReceiverMetrics } from "./metrics.js";
import type { Asset } from "./page-assets.js";
import type { TokenCheck } from "./token.js";
import { MjpegViewer, type ViewerRegistry } from "./viewers.js";

/** How long /streams/ID.jpg waits for a raw stream's next frame to be encoded. */
const SNAPSHOT_WAIT_MS = 2_000;

export interface RouteContext {
  readonly sink: LiveViewSink;
  readonly viewers: ViewerRegistry;
  readonly metrics: ReceiverMetrics;
  readonly assets: ReadonlyMap<string, Asset>;
  readonly authorized: TokenCheck;
  readonly streams: () => readonly StreamSnapshot[];
  /** New streams refused for a cap (--max-streams...), for /api/streams. */
  readonly refusals: () => StreamRefusals;
  readonly health: () => { readonly alive: boolean; readonly msSinceLastDatagram: number | undefined };
  /** A request refused for its token. */
  readonly onUnauthorized: () => void;
  /** Every open MJPEG response, so that closing the server can end them. */
  readonly responses: Set<ServerResponse>;
}

/** `/streams/0123abcd.jpg` -> the stream id and the rest, or undefined. */
export function parseStreamPath(path: string): { streamId: number; suffix: string } | undefined {
  const match = /^\/streams\/([0-9a-f]{8})(\.jpg|\.mjpeg|\/ws)$/i.exec(path);
  if (match === null) return undefined;
  return { streamId: Number.parseInt(match[1] ?? "", 16), suffix: (match[2] ?? "").toLowerCase() };
}

export function requestUrl(request: IncomingMessage): URL {
  return new URL(request.url ?? "/", "http://receiver.invalid");
}

export function handleRequest(request: IncomingMessage, response: ServerResponse, context: RouteContext): void {
  const url = requestUrl(request);
  const path = url.pathname;
  if (request.method !== "GET" && request.method !== "HEAD")
    return sendText(response, 405, "only GET\n", { Allow: "GET, HEAD" });
  if (path === "/healthz") return health(response, context);
  const asset = context.assets.get(path);
  if (asset !== undefined && path.startsWith("/assets/")) return send(response, 200, asset.contentType, asset.body);
  if (!context.authorized(request, url)) {
    context.onUnauthorized();
    return sendText(response, 401, "a token is needed: Authorization: Bearer TOKEN, or ?token=TOKEN\n", {
      "WWW-Authenticate": 'Bearer realm="udpcam"',
    });
  }
  if (asset !== undefined) return send(response, 200, asset.contentType, asset.body);
  if (path === "/") return sendText(response, 500, "the page is not built: run pnpm --filter @udpcam/receiver build\n");
  if (path === "/api/streams") return sendJson(response, 200, apiStreams(context));
  if (path === "/metrics") {
    void context.metrics.scrape().then(
      ({ body, contentType }) => send(response, 200, contentType, Buffer.from(body)),
      (error: unknown) => sendText(response, 500, `metrics failed: ${String(error)}\n`),
    );
    return;
  }
  const stream = parseStreamPath(path);
  if (stream?.suffix === ".jpg") return void snapshot(response, stream.streamId, context);
  if (stream?.suffix === ".mjpeg") return mjpeg(request, response, stream.streamId, context);
  sendText(response, 404, "not found\n");
}

function apiStreams(context: RouteContext): unknown {
  const viewers = context.sink.viewerCounts();
  return {
    now: Date.now(),
    streams: context.streams().map((stream) => ({ ...stream, viewers: viewers.get(stream.streamId) ?? 0 })),
    refused: context.refusals(),
  };
}

function health(response: ServerResponse, context: RouteContext): void {
  const { alive, msSinceLastDatagram } = context.health();
  const lastDatagramAgeSeconds = msSinceLastDatagram === undefined ? null : msSinceLastDatagram / 1000;
  sendJson(response, alive ? 200 : 503, { ingest: alive ? "alive" : "stopped", lastDatagramAgeSeconds });
}

async function snapshot(response: ServerResponse, streamId: number, context: RouteContext): Promise<void> {
  const frame =
    context.sink.latest(streamId) ??
    (context.streams().some((s) => s.streamId === streamId) ? await nextFrame(context.sink, streamId) : undefined);
  if (frame === undefined) return sendText(response, 404, "no frame of this stream yet\n");
  send(response, 200, "image/jpeg", frame.jpeg, {
    "X-Frame-Number": String(frame.frameNumber),
    "X-Capture-Time": String(frame.captureTime),
  });
}

/** A raw stream is encoded only while watched: watch it until one frame comes. */
function nextFrame(sink: LiveViewSink, streamId: number): Promise<LiveFrame | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(undefined), SNAPSHOT_WAIT_MS);
    const unwatch = sink.watch(streamId, { offer: (frame) => finish(frame) });
    function finish(frame: LiveFrame | undefined): void {
      clearTimeout(timer);
      queueMicrotask(unwatch);
      resolve(frame);
    }
  });
}

function mjpeg(request: IncomingMessage, response: ServerResponse, streamId: number, context: RouteContext): void {
  const viewer = new MjpegViewer(response, context.viewers.add("mjpeg", streamId));
  viewer.start();
  context.responses.add(response);
  const unwatch = context.sink.watch(streamId, viewer);
  const end = (): void => {
    unwatch();
    context.viewers.remove(viewer.counters);
    context.responses.delete(response);
  };
  response.once("close", end);
  request.socket.setNoDelay(true);
}

function send(
  response: ServerResponse,
  status: number,
  contentType: string,
  body: Uint8Array,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    "Content-Type": contentType,
    "Content-Length": String(body.byteLength),
    "Cache-Control": "no-store",
    ...headers,
  });
  response.end(response.req.method === "HEAD" ? undefined : body);
}

function sendText(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  send(response, status, "text/plain; charset=utf-8", Buffer.from(text), headers);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  send(response, status, "application/json", Buffer.from(JSON.stringify(value)));
}
