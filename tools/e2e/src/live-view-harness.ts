/**
 * What the live-view tests share: a receiver with --http (its address read from
 * its log), Debian's Chromium driven by playwright-core (no browser download),
 * the frame number read from a screenshot of a tile, a small Prometheus text
 * parser, and the receiver's resident memory.
 */
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { decodeJpeg } from "@udpcam/video";
import { readPatternFrameNumber } from "@udpcam/video/testing";
import { chromium, type Browser, type Page } from "playwright-core";
import { loopbackTargetArgs, sourceArgs, startReceiver, type Child } from "@udpcam/testkit";

export const CHROMIUM = "/usr/bin/chromium";
const LIVE_VIEW_LINE = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"live view on /;

/** The sender's arguments for the test pattern at 25 fps to 127.0.0.1:port. */
export function patternArgs(
  port: number,
  codec: "jpeg" | "raw",
  frames: number,
  extra: readonly string[] = [],
): string[] {
  return [...sourceArgs({ source: "test", codec, fps: 25, frames }), ...loopbackTargetArgs(port), ...extra];
}

/** A receiver on 127.0.0.1 with the live view on a port of the system's choice. */
export async function startLiveReceiver(args: readonly string[]): Promise<{ receiver: Child; base: string }> {
  const receiver = await startReceiver(["--host", "127.0.0.1", "--http", "127.0.0.1:0", ...args]);
  const match = await receiver.waitFor(LIVE_VIEW_LINE);
  return { receiver, base: (match[1] ?? "").replace(/\/$/, "") };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--headless=new"] });
}

export async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(url);
  return page;
}

/** Polls `read` until it returns something other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  read: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

export interface ApiStream {
  readonly id: string;
  readonly width: number;
  readonly height: number;
  readonly codec: string;
  readonly senderFps: number;
  readonly fps: number;
  readonly datagramsReceived: number;
  readonly framesDelivered: number;
  readonly framesRecorded: number;
  readonly viewers: number;
}

export async function apiStreams(base: string, token?: string): Promise<ApiStream[]> {
  const response = await fetch(
    `${base}/api/streams`,
    token === undefined ? {} : { headers: { Authorization: `Bearer ${token}` } },
  );
  if (!response.ok) throw new Error(`/api/streams: HTTP ${response.status}`);
  return ((await response.json()) as { streams: ApiStream[] }).streams;
}

export interface TileCounters {
  readonly framesReceived: number;
  readonly framesPainted: number;
  readonly framesSkipped: number;
  readonly lastFrameNumber: number | undefined;
  readonly paintLatencyMs: { readonly p50: number | undefined; readonly p99: number | undefined };
}

/** What the page counts per tile (`window.udpcam.tiles`). */
export function tileCounters(page: Page): Promise<Record<string, TileCounters>> {
  // Runs in the page: its `window` (this package's types have no DOM).
  return page.evaluate(
    () => (globalThis as unknown as { udpcam?: { tiles: Record<string, TileCounters> } }).udpcam?.tiles ?? {},
  );
}

/** The test pattern's frame number as a person sees it: read from a screenshot of the tile's picture. */
export async function screenshotFrameNumber(page: Page, streamId: string): Promise<number | undefined> {
  const canvas = page.locator(`udpcam-stream[stream-id="${streamId}"] canvas.frame`);
  const shot = await canvas.screenshot({ type: "jpeg", quality: 100 });
  return readPatternFrameNumber(decodeJpeg(shot));
}

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * Prometheus text format (0.0.4), strictly enough for a test: every sample line is
 * `name{labels} value`, every family has a TYPE before its samples, and a value is a
 * number. Throws on anything else.
 */
export function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const [index, line] of text.split("\n").entries()) {
    if (line === "" || line.startsWith("# HELP ")) continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type !== null) {
      types.set(type[1] ?? "", type[2] ?? "");
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ([-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+|Inf|NaN))$/.exec(
      line,
    );
    if (sample === null) throw new Error(`metrics line ${index + 1} is not Prometheus text: ${JSON.stringify(line)}`);
    const name = sample[1] ?? "";
    const family = name.replace(/_(bucket|sum|count)$/, "");
    if (!types.has(name) && !types.has(family))
      throw new Error(`metrics line ${index + 1}: ${name} has no TYPE before it`);
    const labels: Record<string, string> = {};
    for (const pair of (sample[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g))
      labels[pair[1] ?? ""] = (pair[2] ?? "").replace(/\\(.)/g, "$1");
    samples.push({ name, labels, value: Number(sample[3]) });
  }
  return { samples, types };
}

export async function scrape(base: string): Promise<{ samples: Sample[]; types: Map<string, string> }> {
  const response = await fetch(`${base}/metrics`);
  if (!response.ok) throw new Error(`/metrics: HTTP ${response.status}`);
  return parsePrometheus(await response.text());
}

/** The value of one sample (labels must match exactly the given ones, if any), or undefined. */
export function sampleValue(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

/** Resident memory of a running process now (VmRSS), KiB. */
export function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (match === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}
