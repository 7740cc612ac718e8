// The live view's HTTP server in this process, over real sockets: tokens, health,
// snapshots, MJPEG parts, WebSocket frames, and a viewer that never reads.
import { get, type IncomingMessage } from "node:http";
import { connect } from "node:net";
import { createLogger } from "@udpcam/appkit";
import { Codec, type FrameEvent } from "@udpcam/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { deliveredFrame } from "../delivery/delivered-frame.js";
import { StreamStats } from "../delivery/stream-stats.js";
import { EMPTY_INGEST_COUNTERS } from "../ingest/messages.js";
import { LiveViewSink } from "../sinks/live-view-sink.js";
import { emptyReceiverStats } from "../stats.js";
import { decodeFrameMessage } from "./frame-message.js";
import { startLiveViewServer } from "./server.js";
import { MJPEG_BOUNDARY } from "./viewers.js";

const logger = createLogger({ name: "test", level: "silent", format: "json", colors: false });
const STREAM = 0x0a0b0c0d;
const ID = "0a0b0c0d";

function jpegEvent(n: number, bytes = 2_000): FrameEvent {
  const payload = new Uint8Array(bytes).fill(n & 0xff);
  payload.set([0xff, 0xd8], 0);
  return {
    type: "frame",
    streamId: STREAM,
    frameNumber: n,
    codec: Codec.Jpeg,
    width: 64,
    height: 48,
    fps: 25,
    timestampMs: 1_700_000_000_000 + n,
    payload,
    recovered: false,
    firstArrivalMs: 0,
  };
}

interface Fixture {
  readonly base: string;
  readonly sink: LiveViewSink;
  readonly streams: StreamStats;
  readonly ingest: { alive: boolean; counters: () => typeof EMPTY_INGEST_COUNTERS };
  readonly send: (event: FrameEvent) => Promise<void>;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function serve(token?: string): Promise<Fixture> {
  const sink = new LiveViewSink(80, logger);
  const streams = new StreamStats();
  const stats = emptyReceiverStats(Date.now());
  const ingest = { alive: true, counters: () => ({ ...EMPTY_INGEST_COUNTERS, msSinceLastDatagram: 250 }) };
  const server = await startLiveViewServer(
    { host: "127.0.0.1", port: 0, token, quality: 80 },
    { sink, stats: () => stats, streams, ingest, logger },
  );
  closers.push(() => sink.close());
  const send = async (event: FrameEvent) => {
    streams.add(event, Date.now(), 3);
    stats.framesComplete++;
    await sink.deliver(deliveredFrame(event, event.timestampMs));
  };
  return { base: server.url.replace(/\/$/, ""), sink, streams, ingest, send };
}

function fetchBytes(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
      );
    }).on("error", reject);
  });
}

const until = async (ok: () => boolean, ms = 5_000) => {
  for (const end = Date.now() + ms; !ok() && Date.now() < end;) await new Promise((r) => setTimeout(r, 10));
};

describe("live view server", () => {
  it("/healthz: 200 with the last datagram's age while ingest is alive, 503 once it is not; no token needed", async () => {
    const { base, ingest } = await serve("tok");
    const alive = await fetchBytes(`${base}/healthz`);
    expect(alive.status).toBe(200);
    expect(JSON.parse(alive.body.toString())).toEqual({ ingest: "alive", lastDatagramAgeSeconds: 0.25 });
    ingest.alive = false;
    const dead = await fetchBytes(`${base}/healthz`);
    expect(dead.status).toBe(503);
    expect(JSON.parse(dead.body.toString())).toMatchObject({ ingest: "stopped" });
  });

  it("with a token: 401 without or with a wrong one (counted in /metrics), 200 with a bearer token or ?token=", async () => {
    const { base, send } = await serve("s3cret-token");
    await send(jpegEvent(1));
    for (const path of ["/", "/api/streams", `/streams/${ID}.jpg`, "/metrics"]) {
      expect((await fetchBytes(`${base}${path}`)).status, path).toBe(401);
      expect((await fetchBytes(`${base}${path}?token=wrong`)).status, path).toBe(401);
      expect((await fetchBytes(`${base}${path}`, { Authorization: "Bearer s3cret-token" })).status, path).toBe(200);
      expect((await fetchBytes(`${base}${path}?token=s3cret-token`)).status, path).toBe(200);
    }
    const refused = await new Promise<number>((resolve) =>
      new WebSocket(`${base.replace("http", "ws")}/streams/${ID}/ws`)
        .on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0))
        .on("error", () => {}),
    );
    expect(refused).toBe(401);
    const metrics = (await fetchBytes(`${base}/metrics?token=s3cret-token`)).body.toString();
    expect(metrics).toMatch(/^udpcam_receiver_http_unauthorized_requests_total 9$/m);
  });

  it("/streams/ID.jpg: 404 before a frame, then the newest JPEG as it arrived, with its number and capture time", async () => {
    const { base, send } = await serve();
    expect((await fetchBytes(`${base}/streams/${ID}.jpg`)).status).toBe(404);
    await send(jpegEvent(1));
    const last = jpegEvent(2);
    await send(last);
    const snapshot = await fetchBytes(`${base}/streams/${ID}.jpg`);
    expect(snapshot.status).toBe(200);
    expect(snapshot.headers["content-type"]).toBe("image/jpeg");
    expect(snapshot.headers["x-frame-number"]).toBe("2");
    expect(snapshot.body.equals(Buffer.from(last.payload))).toBe(true);
    expect((await fetchBytes(`${base}/streams/nothex00.jpg`)).status).toBe(404);
  });

  it("/api/streams: the stream's figures and its viewers", async () => {
    const { base, send } = await serve();
    await send(jpegEvent(1));
    const body = JSON.parse((await fetchBytes(`${base}/api/streams`)).body.toString()) as {
      streams: { id: string; viewers: number; framesDelivered: number }[];
    };
    expect(body.streams).toMatchObject([
      { id: ID, width: 64, height: 48, codec: "jpeg", framesDelivered: 1, viewers: 0 },
    ]);
  });

  it("a WebSocket viewer gets each frame with its header; a viewer that never reads skips frames and slows no one", async () => {
    const { base, sink, send } = await serve();
    // The stuck viewer: a TCP client that sends the upgrade, then never reads a byte.
    const stuck = connect(Number(new URL(base).port), "127.0.0.1");
    stuck.write(
      `GET /streams/${ID}/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    stuck.pause();
    const received: { frameNumber: number; bytes: number }[] = [];
    const socket = new WebSocket(`${base.replace("http", "ws")}/streams/${ID}/ws`);
    socket.on("message", (data: Buffer) => {
      const message = decodeFrameMessage(new Uint8Array(data));
      if ("header" in message)
        received.push({ frameNumber: message.header.frameNumber, bytes: message.jpeg.byteLength });
    });
    await new Promise((resolve) => socket.once("open", resolve));
    await until(() => [...sink.viewerCounts().values()].reduce((a, b) => a + b, 0) === 2);

    const FRAMES = 120;
    for (let n = 1; n <= FRAMES; n++) {
      await send(jpegEvent(n, 400_000));
      // The reading viewer keeps up at a camera's pace; the stuck one cannot.
      await until(() => received.at(-1)?.frameNumber === n, 2_000);
    }
    expect(received.map((r) => r.frameNumber)).toEqual(Array.from({ length: FRAMES }, (_, i) => i + 1));
    expect(received.every((r) => r.bytes === 400_000)).toBe(true);
    const metrics = (await fetchBytes(`${base}/metrics`)).body.toString();
    const dropped = [
      ...metrics.matchAll(
        /^udpcam_receiver_viewer_frames_dropped_total\{viewer="(ws-\d+)",kind="websocket",stream="0a0b0c0d"\} (\d+)$/gm,
      ),
    ].map((m) => Number(m[2]));
    // 120 frames of 400 kB: the kernel's buffers take a few, then the stuck viewer skips the rest.
    expect(dropped.sort((a, b) => a - b)).toEqual([0, expect.any(Number)]);
    expect(dropped[1]).toBeGreaterThan(FRAMES / 2);
    expect(metrics).toMatch(/^udpcam_receiver_viewers\{stream="0a0b0c0d",kind="websocket"\} 2$/m);
    socket.close();
    stuck.destroy();
  });

  it("/streams/ID.mjpeg: multipart parts with Content-Type and Content-Length, each the frame's JPEG", async () => {
    const { base, send } = await serve();
    const parts: Buffer[] = [];
    let raw = Buffer.alloc(0);
    const response = await new Promise<IncomingMessage>((resolve) =>
      get(`${base}/streams/${ID}.mjpeg`, resolve).on("error", () => {}),
    );
    expect(response.headers["content-type"]).toBe(`multipart/x-mixed-replace; boundary=${MJPEG_BOUNDARY}`);
    response.on("data", (chunk: Buffer) => {
      raw = Buffer.concat([raw, chunk]);
      for (;;) {
        const head =
          /^--udpcamframe\r\nContent-Type: image\/jpeg\r\nContent-Length: (\d+)\r\n(?:[^\r\n]+\r\n)*\r\n/.exec(
            raw.toString("latin1"),
          );
        if (head === null) break;
        const length = Number(head[1]);
        if (raw.length < head[0].length + length + 2) break;
        parts.push(raw.subarray(head[0].length, head[0].length + length));
        raw = raw.subarray(head[0].length + length + 2);
      }
    });
    const events = [1, 2, 3].map((n) => jpegEvent(n, 5_000 + n));
    for (const event of events) {
      await send(event);
      await until(() => parts.length === event.frameNumber);
    }
    expect(parts.map((p) => p.length)).toEqual([5_001, 5_002, 5_003]);
    expect(parts.every((p, i) => p.equals(Buffer.from(events[i]?.payload ?? [])))).toBe(true);
    response.destroy();
  });

  it("closing the sink closes the server and every viewer", async () => {
    const { base, sink } = await serve();
    const socket = new WebSocket(`${base.replace("http", "ws")}/streams/${ID}/ws`);
    await new Promise((resolve) => socket.once("open", resolve));
    const closed = new Promise((resolve) => socket.once("close", resolve));
    await sink.close();
    await closed;
    await expect(fetchBytes(`${base}/healthz`)).rejects.toThrow(/ECONNREFUSED/);
  });

  it("a port in use is one line naming --http", async () => {
    const { base } = await serve();
    const port = Number(new URL(base).port);
    const sink = new LiveViewSink(80, logger);
    await expect(
      startLiveViewServer(
        { host: "127.0.0.1", port, token: undefined, quality: 80 },
        {
          sink,
          stats: () => emptyReceiverStats(0),
          streams: new StreamStats(),
          ingest: { alive: true, counters: () => EMPTY_INGEST_COUNTERS },
          logger,
        },
      ),
    ).rejects.toThrow(new RegExp(`^--http 127\\.0\\.0\\.1:${port}: cannot listen: the port is in use`));
  });
});
