/**
 * The live view's HTTP server: the routes of routes.ts, and WebSocket viewers
 * at /streams/ID/ws. It lives as long as the live-view sink: the sink's close
 * closes it, and every viewer's socket with it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { UserError, type Logger } from "@udpcam/appkit";
import { WebSocketServer, type WebSocket } from "ws";
import type { HttpSettings } from "../config.js";
import type { StreamStats } from "../delivery/stream-stats.js";
import type { Ingest } from "../ingest/ingest.js";
import type { LiveViewSink } from "../sinks/live-view-sink.js";
import { streamRefusals, type ReceiverStats } from "../stats.js";
import { ReceiverMetrics } from "./metrics.js";
import { loadPageAssets } from "./page-assets.js";
import { handleRequest, parseStreamPath, requestUrl, type RouteContext } from "./routes.js";
import { tokenCheck } from "./token.js";
import { ViewerRegistry, WebSocketViewer } from "./viewers.js";

/** A page sends nothing but pings and small control messages. */
const MAX_CLIENT_MESSAGE_BYTES = 4 * 1024;

export interface LiveViewServerDeps {
  readonly sink: LiveViewSink;
  /** The receiver's stats, brought up to date (sinks included). */
  readonly stats: () => ReceiverStats;
  /** Delivery's per-stream figures (and the latency feed of the histogram). */
  readonly streams: StreamStats;
  readonly ingest: Pick<Ingest, "alive" | "counters">;
  /** Frames the recording took per stream (none without a recording). */
  readonly recorded?: () => ReadonlyMap<number, number>;
  readonly logger: Logger;
}

export interface LiveViewServer {
  readonly address: string;
  readonly port: number;
  readonly url: string;
}

/** Listens, and ties the server's end to the sink's close. A bind error is a UserError naming --http. */
export async function startLiveViewServer(settings: HttpSettings, deps: LiveViewServerDeps): Promise<LiveViewServer> {
  const viewers = new ViewerRegistry();
  let unauthorized = 0;
  const { ingest } = deps;
  const streams = () => deps.streams.snapshot(Date.now(), ingest.counters().streams, deps.recorded?.());
  const health = () => ({ alive: ingest.alive, msSinceLastDatagram: ingest.counters().msSinceLastDatagram });
  const metrics = new ReceiverMetrics({
    stats: deps.stats,
    streams,
    viewers,
    unauthorized: () => unauthorized,
    health,
  });
  deps.streams.onLatency((ms) => metrics.observeLatency(ms));
  const context: RouteContext = {
    sink: deps.sink,
    viewers,
    metrics,
    assets: loadPageAssets(),
    authorized: tokenCheck(settings.token),
    streams,
    refusals: () => streamRefusals(deps.stats()),
    health,
    onUnauthorized: () => unauthorized++,
    responses: new Set<ServerResponse>(),
  };

  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_CLIENT_MESSAGE_BYTES,
    perMessageDeflate: false,
    clientTracking: false,
  });
  const server = createServer((request, response) => handleRequest(request, response, context));
  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = requestUrl(request);
    const stream = parseStreamPath(url.pathname);
    if (stream?.suffix !== "/ws") return refuseUpgrade(socket, "404 Not Found");
    if (!context.authorized(request, url)) {
      unauthorized++;
      return refuseUpgrade(socket, "401 Unauthorized");
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const viewer = new WebSocketViewer(ws, viewers.add("websocket", stream.streamId));
      sockets.add(ws);
      const unwatch = deps.sink.watch(stream.streamId, viewer);
      ws.on("error", () => ws.terminate());
      ws.once("close", () => {
        unwatch();
        viewers.remove(viewer.counters);
        sockets.delete(ws);
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => reject(bindError(settings, error)));
    server.listen(settings.port, settings.host, () => resolve());
  });
  server.on("error", (error) =>
    deps.logger.error({ err: error }, `the live view's HTTP server failed: ${error.message}`),
  );

  deps.sink.onClose(async () => {
    for (const ws of sockets) ws.terminate();
    for (const response of context.responses) response.destroy();
    wss.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : settings.port;
  const host = settings.host.includes(":") ? `[${settings.host}]` : settings.host;
  return { address: settings.host, port, url: `http://${host}:${port}/` };
}

function refuseUpgrade(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function bindError(settings: HttpSettings, error: NodeJS.ErrnoException): Error {
  const where = `${settings.host}:${settings.port}`;
  const why =
    error.code === "EADDRINUSE"
      ? "the port is in use (another receiver?)"
      : error.code === "EACCES"
        ? "permission denied (ports below 1024 need privileges)"
        : error.code === "EADDRNOTAVAIL"
          ? "no interface has this address"
          : (error.code ?? error.message);
  return new UserError(`--http ${where}: cannot listen: ${why}`);
}
