/**
 * The page: polls /api/streams each second, keeps one <udpcam-stream> tile per
 * live stream (a stream that stops leaves the list, and its tile goes), and
 * exposes each tile's counters on `window.udpcam` for tests.
 */
// Defines <udpcam-stream>.
import "./stream-tile.js";
import type { StreamTile } from "./stream-tile.js";
import type { StreamFigures, TileCounters } from "./types.js";

const POLL_EVERY_MS = 1_000;

declare global {
  interface Window {
    udpcam: { tiles: Record<string, TileCounters>; polls: number };
  }
}

const tiles = new Map<string, StreamTile>();
const exposed: Window["udpcam"] = { tiles: {}, polls: 0 };
window.udpcam = exposed;

const container = document.getElementById("tiles");
const status = document.getElementById("status");
const empty = document.getElementById("empty");
const token = new URLSearchParams(location.search).get("token");

async function poll(): Promise<void> {
  try {
    const response = await fetch(`/api/streams${token === null ? "" : `?token=${encodeURIComponent(token)}`}`, {
      cache: "no-store",
    });
    if (response.status === 401) {
      show(`the receiver needs its token: open this page as /?token=…`);
      return;
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const body = (await response.json()) as { streams: StreamFigures[] };
    place(body.streams);
    show(
      `${body.streams.length} stream${body.streams.length === 1 ? "" : "s"} · updated ${new Date().toLocaleTimeString()}`,
    );
  } catch (error) {
    show(`cannot reach the receiver (${String(error)}); retrying`);
  } finally {
    exposed.polls++;
  }
}

function place(streams: readonly StreamFigures[]): void {
  const live = new Set(streams.map((s) => s.id));
  for (const [id, tile] of tiles) {
    if (live.has(id)) continue;
    tile.remove();
    tiles.delete(id);
    delete exposed.tiles[id];
  }
  for (const figures of streams) {
    let tile = tiles.get(figures.id);
    if (tile === undefined) {
      tile = document.createElement("udpcam-stream") as StreamTile;
      tile.setAttribute("stream-id", figures.id);
      tiles.set(figures.id, tile);
      container?.append(tile);
      exposed.tiles[figures.id] = tile.counters;
    }
    tile.update(figures);
  }
  if (empty !== null) empty.hidden = streams.length > 0;
}

function show(text: string): void {
  if (status !== null) status.textContent = text;
}

void poll();
window.setInterval(() => void poll(), POLL_EVERY_MS);
