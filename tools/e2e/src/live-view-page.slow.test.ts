/**
 * The live view's page in real Chromium: the real sender (test pattern) to the
 * real receiver with --http, the page's tiles read by pixels from screenshots
 * (the pattern carries its frame number) and by the page's own counters.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, receiveArgs, startSender } from "@udpcam/testkit";
import { useCleanup } from "./harness.js";
import {
  apiStreams,
  patternArgs,
  eventually,
  launchChromium,
  openPage,
  screenshotFrameNumber,
  startLiveReceiver,
  tileCounters,
} from "./live-view-harness.js";

const cleanup = useCleanup();
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser.close();
});

describe("live view page", () => {
  it.each([
    { codec: "jpeg" as const, size: ["--width", "640", "--height", "480"] },
    { codec: "raw" as const, size: ["--width", "640", "--height", "480"] },
  ])(
    "a $codec stream: its tile shows the stream, the frame number on screen advances, the page counts paints and latency",
    async ({ codec, size }) => {
      const port = await freePort();
      const { receiver, base } = await startLiveReceiver(receiveArgs(port, { output: "none" }));
      cleanup.kill(receiver);
      const sender = startSender(patternArgs(port, codec, 750, size));
      cleanup.kill(sender);
      const [stream] = await eventually("a stream in /api/streams", async () => {
        const streams = await apiStreams(base);
        return streams.length > 0 ? streams : undefined;
      });
      expect(stream).toMatchObject({ width: 640, height: 480, codec: codec === "jpeg" ? "jpeg" : "raw-bgr24" });
      const id = stream?.id ?? "";

      const page = await openPage(browser, `${base}/`);
      cleanup.add(() => void page.close());
      await eventually(
        "frames painted",
        async () => ((await tileCounters(page))[id]?.framesPainted ?? 0) > 10 || undefined,
      );
      const first = await eventually("a frame number on screen", () => screenshotFrameNumber(page, id));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const second = await eventually("a frame number on screen", () => screenshotFrameNumber(page, id));
      // 25 fps: about 25 frames later (the screenshots themselves take time on a busy machine).
      expect(second).toBeGreaterThan(first + 5);

      const counters = (await tileCounters(page))[id];
      expect(counters?.framesPainted).toBeGreaterThan(20);
      expect(Math.abs((counters?.lastFrameNumber ?? 0) - second)).toBeLessThan(100);
      expect(counters?.paintLatencyMs.p50).toBeGreaterThan(0);
      expect(counters?.paintLatencyMs.p50).toBeLessThan(1_000);
      expect(await page.locator(`udpcam-stream[stream-id="${id}"] h2`).textContent()).toContain(
        codec === "jpeg" ? "640×480 JPEG" : "640×480 raw BGR",
      );
      await expect(page.locator(`udpcam-stream[stream-id="${id}"] .overlay`).textContent()).resolves.toMatch(
        /fps.*Mbit\/s.*loss.*rebuilt.*[1-9]\d* datagrams · 0 recorded.*p50.*p99/s,
      );
    },
    120_000,
  );

  it("two senders with --streams separate start: two tiles appear; one stops: its tile goes", async () => {
    const port = await freePort();
    const { receiver, base } = await startLiveReceiver([
      ...receiveArgs(port, { output: "none" }),
      ...["--streams", "separate"],
    ]);
    cleanup.kill(receiver);
    // The page is open before any stream: it says so, and the tiles come without a reload.
    const page = await openPage(browser, `${base}/`);
    cleanup.add(() => void page.close());
    await eventually(
      "the page's first poll",
      async () => (await page.evaluate<number>("window.udpcam.polls")) > 0 || undefined,
    );
    expect(await page.locator("#empty").isVisible()).toBe(true);
    const jpeg = startSender(patternArgs(port, "jpeg", 750, ["--width", "320", "--height", "240"]));
    cleanup.kill(jpeg);
    const raw = startSender(patternArgs(port, "raw", 750, ["--width", "320", "--height", "240"]));
    cleanup.kill(raw);

    const ids = await eventually("two tiles painting", async () => {
      const tiles = await tileCounters(page);
      const painting = Object.entries(tiles).filter(([, t]) => t.framesPainted > 5);
      return painting.length === 2 ? painting.map(([id]) => id) : undefined;
    });
    expect(await page.locator("udpcam-stream").count()).toBe(2);
    const streams = await apiStreams(base);
    const jpegId = streams.find((s) => s.codec === "jpeg")?.id;
    const rawId = streams.find((s) => s.codec === "raw-bgr24")?.id;
    expect(new Set(ids)).toEqual(new Set([jpegId, rawId]));

    jpeg.signal("SIGINT");
    await jpeg.exited;
    // Silent for 3 s, the stream leaves /api/streams; the page polls each second.
    await eventually(
      "the stopped stream's tile gone",
      async () => ((await page.locator("udpcam-stream").count()) === 1 ? true : undefined),
      10_000,
    );
    expect(await page.locator(`udpcam-stream[stream-id="${rawId}"]`).count()).toBe(1);
    expect(Object.keys(await tileCounters(page))).toEqual([rawId]);
  }, 120_000);
});
