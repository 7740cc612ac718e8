/**
 * <udpcam-stream stream-id="0123abcd">: one stream's tile. It owns its
 * WebSocket (reconnecting with backoff), draws each frame with
 * createImageBitmap on a canvas, measures capture-to-paint latency itself
 * (the sender's capture time is in each message), and shows the receiver's
 * figures for the stream over the picture, with a plot of the last minute.
 */
import { decodeFrameMessage, type FrameMessageHeader } from "../http/frame-message.js";
import { drawPlot, type PlotPoint } from "./plot.js";
import type { StreamFigures, TileCounters } from "./types.js";

/** Paint latencies kept for the percentiles. */
const LATENCY_SAMPLES = 600;
/** The plot's span: one point a second. */
const PLOT_POINTS = 60;

export class StreamTile extends HTMLElement {
  /** Reconnect after this long at first, doubling up to the max; reset once a frame arrives. */
  readonly reconnectMinMs = 250;
  readonly reconnectMaxMs = 8_000;
  /** No frame for this long: the tile says it is waiting. */
  readonly staleAfterMs = 3_000;

  readonly counters: TileCounters = {
    framesReceived: 0,
    framesPainted: 0,
    framesSkipped: 0,
    lastFrameNumber: undefined,
    paintLatencyMs: { p50: undefined, p99: undefined },
    connects: 0,
  };
  #socket: WebSocket | undefined;
  #reconnectMs = this.reconnectMinMs;
  #reconnectTimer: number | undefined;
  #staleTimer: number | undefined;
  #connected = false;
  /** The newest frame waiting to be decoded while one is being decoded (older ones are skipped). */
  #pending: { header: FrameMessageHeader; jpeg: Uint8Array } | undefined;
  #decoding = false;
  readonly #latencies: number[] = [];
  readonly #secondLatencies: number[] = [];
  readonly #plot: PlotPoint[] = [];
  #figures: StreamFigures | undefined;

  readonly #canvas = document.createElement("canvas");
  readonly #overlay = document.createElement("div");
  readonly #title = document.createElement("h2");
  readonly #state = document.createElement("span");
  readonly #plotCanvas = document.createElement("canvas");

  get streamId(): string {
    return this.getAttribute("stream-id") ?? "";
  }

  /** The URL of this stream's socket, with the page's token if it has one. */
  socketUrl(): string {
    const url = new URL(`/streams/${this.streamId}/ws`, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    const token = new URLSearchParams(location.search).get("token");
    url.search = token === null ? "" : `?token=${encodeURIComponent(token)}`;
    return url.href;
  }

  connectedCallback(): void {
    if (this.childElementCount === 0) this.#build();
    this.#connected = true;
    this.#connect();
  }

  disconnectedCallback(): void {
    this.#connected = false;
    window.clearTimeout(this.#reconnectTimer);
    window.clearTimeout(this.#staleTimer);
    this.#socket?.close();
    this.#socket = undefined;
  }

  /** The receiver's figures for this stream (polled by the page each second). */
  update(figures: StreamFigures): void {
    this.#figures = figures;
    const latency = this.#secondLatencies.length > 0 ? percentile(this.#secondLatencies, 0.5) : undefined;
    this.#secondLatencies.length = 0;
    this.#plot.push({ fps: figures.fps, latencyMs: latency });
    if (this.#plot.length > PLOT_POINTS) this.#plot.shift();
    this.#title.textContent = `${figures.id} · ${figures.width}×${figures.height} ${figures.codec === "jpeg" ? "JPEG" : "raw BGR"}`;
    this.#renderOverlay();
    drawPlot(this.#plotCanvas, this.#plot, PLOT_POINTS);
  }

  #build(): void {
    const head = document.createElement("header");
    this.#state.className = "state";
    head.append(this.#title, this.#state);
    const picture = document.createElement("div");
    picture.className = "picture";
    this.#canvas.className = "frame";
    this.#canvas.width = 640;
    this.#canvas.height = 480;
    this.#overlay.className = "overlay";
    picture.append(this.#canvas, this.#overlay);
    // A click on the picture hides the figures (and shows them again).
    picture.title = "click to hide or show the figures";
    picture.addEventListener("click", () => (this.#overlay.hidden = !this.#overlay.hidden));
    this.#plotCanvas.className = "plot";
    this.#plotCanvas.width = 480;
    this.#plotCanvas.height = 64;
    this.#title.textContent = this.streamId;
    this.append(head, picture, this.#plotCanvas);
    this.#setState("connecting");
  }

  #connect(): void {
    if (!this.#connected) return;
    const socket = new WebSocket(this.socketUrl());
    socket.binaryType = "arraybuffer";
    this.#socket = socket;
    this.counters.connects++;
    socket.onopen = () => this.#setState("waiting");
    socket.onmessage = (event: MessageEvent<ArrayBuffer>) => this.#onMessage(new Uint8Array(event.data));
    socket.onclose = () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      if (!this.#connected) return;
      this.#setState("reconnecting");
      this.#reconnectTimer = window.setTimeout(() => this.#connect(), this.#reconnectMs);
      this.#reconnectMs = Math.min(this.reconnectMaxMs, this.#reconnectMs * 2);
    };
  }

  #onMessage(bytes: Uint8Array): void {
    const message = decodeFrameMessage(bytes);
    if ("error" in message) return;
    this.counters.framesReceived++;
    this.#reconnectMs = this.reconnectMinMs;
    window.clearTimeout(this.#staleTimer);
    this.#staleTimer = window.setTimeout(() => this.#setState("waiting"), this.staleAfterMs);
    if (this.#decoding) {
      if (this.#pending !== undefined) this.counters.framesSkipped++;
      this.#pending = message;
      return;
    }
    void this.#paint(message);
  }

  async #paint(first: { header: FrameMessageHeader; jpeg: Uint8Array }): Promise<void> {
    this.#decoding = true;
    let next: typeof first | undefined = first;
    while (next !== undefined) {
      const { header, jpeg } = next;
      this.#pending = undefined;
      try {
        const bitmap = await createImageBitmap(new Blob([jpeg as Uint8Array<ArrayBuffer>], { type: "image/jpeg" }));
        await nextAnimationFrame();
        this.#draw(bitmap);
        bitmap.close();
        this.#painted(header, Date.now() - header.captureTime);
      } catch {
        this.counters.framesSkipped++;
      }
      next = this.#pending;
    }
    this.#decoding = false;
  }

  #draw(bitmap: ImageBitmap): void {
    if (this.#canvas.width !== bitmap.width || this.#canvas.height !== bitmap.height) {
      this.#canvas.width = bitmap.width;
      this.#canvas.height = bitmap.height;
    }
    this.#canvas.getContext("2d")?.drawImage(bitmap, 0, 0);
  }

  #painted(header: FrameMessageHeader, latencyMs: number): void {
    this.counters.framesPainted++;
    this.counters.lastFrameNumber = header.frameNumber;
    this.#latencies.push(latencyMs);
    if (this.#latencies.length > LATENCY_SAMPLES) this.#latencies.shift();
    this.#secondLatencies.push(latencyMs);
    this.counters.paintLatencyMs = { p50: percentile(this.#latencies, 0.5), p99: percentile(this.#latencies, 0.99) };
    if (this.#state.dataset["state"] !== "live") this.#setState("live");
  }

  #setState(state: "connecting" | "waiting" | "live" | "reconnecting"): void {
    this.#state.dataset["state"] = state;
    this.#state.textContent = state;
  }

  #renderOverlay(): void {
    const f = this.#figures;
    if (f === undefined) return;
    const paint = this.counters.paintLatencyMs;
    const rows: [string, string][] = [
      ["rate", `${f.fps.toFixed(1)} fps · ${f.mbps.toFixed(2)} Mbit/s`],
      ["loss", `${f.frameLossPercent.toFixed(2)}% (${f.framesDropped} dropped)`],
      ["FEC", `${f.framesRecovered} frames rebuilt`],
      ["received", `${f.datagramsReceived} datagrams · ${f.framesRecorded} recorded`],
      ["capture→complete", `p50 ${ms(f.latencyMs.p50)} · p99 ${ms(f.latencyMs.p99)}`],
      ["capture→paint", `p50 ${ms(paint.p50)} · p99 ${ms(paint.p99)}`],
      ["frame", `#${this.counters.lastFrameNumber ?? "-"} · ${f.viewers} viewer${f.viewers === 1 ? "" : "s"}`],
    ];
    this.#overlay.replaceChildren(
      ...rows.map(([name, value]) => {
        const row = document.createElement("div");
        const label = document.createElement("span");
        label.textContent = name;
        const text = document.createElement("b");
        text.textContent = value;
        row.append(label, text);
        return row;
      }),
    );
  }
}

function ms(value: number | null | undefined): string {
  return value === undefined || value === null ? "-" : `${value.toFixed(1)} ms`;
}

/** Nearest-rank quantile of the samples (copied, not reordered). */
export function percentile(samples: readonly number[], q: number): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function nextAnimationFrame(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

customElements.define("udpcam-stream", StreamTile);
