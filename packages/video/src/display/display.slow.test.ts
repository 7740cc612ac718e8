// The display runs in a child process (built dist), so that a Qt abort fails a test
// instead of killing vitest. Needs Xvfb, ffmpeg (x11grab) and xdotool.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Frame } from "../frame.js";
import { matToFrame } from "../mat.js";
import { psnr } from "../testing/psnr.js";
import { cv } from "../opencv.js";
import { renderPatternFrame } from "../source/pattern.js";
import { readPatternFrameNumber } from "../testing/pattern-inspection.js";
import { probeDisplay } from "./xdisplay.js";

const DIST = pathToFileURL(join(import.meta.dirname, "..", "..", "dist", "index.js")).href;
const FRAME_NUMBER = 4321;

const CHILD = `
const [distUrl, mode, display, seconds] = process.argv.slice(1);
const v = await import(distUrl);
const notices = [];
const say = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
try {
  const d = await v.openDisplay({ mode, display: display === "-" ? undefined : display, title: "udpcam-test", onNotice: (m) => notices.push(m) });
  say({ event: "open", status: d.status, reason: d.reason ?? null });
  const frame = v.renderPatternFrame(${FRAME_NUMBER}, 640, 480);
  const deadline = Date.now() + Number(seconds) * 1000;
  let quit = false;
  for (let i = 0; Date.now() < deadline; i++) {
    if (d.show(frame)) { quit = true; break; }
    if (i === 25) say({ event: "shown" });
    await new Promise((r) => setTimeout(r, 20));
  }
  d.close();
  say({ event: "end", quit, notices });
} catch (e) {
  say({ event: "error", code: e.code, message: e.message });
}
`;

interface ChildEvent {
  event: string;
  [key: string]: unknown;
}

interface Child {
  events: ChildEvent[];
  next(event: string): Promise<ChildEvent>;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }>;
  process: ChildProcess;
}

function runChild(mode: string, display: string | undefined, seconds: number, env: NodeJS.ProcessEnv): Child {
  const child = spawn(
    process.execPath,
    ["--input-type=module", "-e", CHILD, DIST, mode, display ?? "-", String(seconds)],
    {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const events: ChildEvent[] = [];
  const waiters: { event: string; resolve: (e: ChildEvent) => void }[] = [];
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout }).on("line", (line) => {
    stdout += line + "\n";
    const parsed = JSON.parse(line) as ChildEvent;
    events.push(parsed);
    for (const waiter of waiters.filter((w) => w.event === parsed.event)) waiter.resolve(parsed);
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }>(
    (resolve) => child.on("close", (code, signal) => resolve({ code, signal, stderr, stdout })),
  );
  return {
    events,
    process: child,
    done,
    next: (event) =>
      new Promise((resolve, reject) => {
        const seen = events.find((e) => e.event === event);
        if (seen) return resolve(seen);
        waiters.push({ event, resolve });
        void done.then(() => reject(new Error(`child ended before "${event}": ${stdout} ${stderr}`)));
      }),
  };
}

function freeDisplayNumber(): number {
  for (let n = 90; n < 190; n++) {
    if (!existsSync(`/tmp/.X11-unix/X${n}`) && !existsSync(`/tmp/.X${n}-lock`)) return n;
  }
  throw new Error("no free X display number between :90 and :189");
}

const withoutDisplay: NodeJS.ProcessEnv = { ...process.env };
delete withoutDisplay.DISPLAY;

describe("openDisplay under Xvfb", () => {
  let xvfb: ChildProcess | undefined;
  let display = "";
  const dir = mkdtempSync(join(tmpdir(), "udpcam-display-"));

  beforeAll(async () => {
    const n = freeDisplayNumber();
    display = `:${n}`;
    xvfb = spawn("Xvfb", [display, "-screen", "0", "1024x768x24", "-nolisten", "tcp"], { stdio: "ignore" });
    for (let i = 0; i < 100 && !existsSync(`/tmp/.X11-unix/X${n}`); i++) await new Promise((r) => setTimeout(r, 50));
    if (!existsSync(`/tmp/.X11-unix/X${n}`)) throw new Error(`Xvfb ${display} did not start`);
    // The socket exists before Xvfb answers (it loads its fonts first): wait until it does, up to 10 s.
    let probe = await probeDisplay(display, { timeoutMs: 500 });
    for (let i = 0; i < 20 && !probe.available; i++) probe = await probeDisplay(display, { timeoutMs: 500 });
    if (!probe.available) throw new Error(`Xvfb ${display} does not answer: ${probe.reason}`);
  });

  afterAll(() => {
    xvfb?.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows the frame in a window: the screenshot holds the frame's pixels; q reports quit", async () => {
    // The child's own DISPLAY is unset: the window must open on the display passed in.
    const child = runChild("on", display, 20, withoutDisplay);
    expect(await child.next("open")).toMatchObject({ status: "window" });
    await child.next("shown");

    const shot = join(dir, "shot.png");
    execFileSync("ffmpeg", [
      "-v",
      "error",
      "-y",
      "-f",
      "x11grab",
      "-draw_mouse",
      "0",
      "-video_size",
      "1024x768",
      "-i",
      display,
      "-frames:v",
      "1",
      shot,
    ]);
    execFileSync("xdotool", ["search", "--sync", "--name", "udpcam-test", "windowfocus", "--sync", "key", "q"], {
      env: { ...process.env, DISPLAY: display },
    });
    const end = await child.next("end");
    expect(end).toMatchObject({ quit: true, notices: [] });
    const result = await child.done;
    expect(result).toMatchObject({ code: 0, signal: null, stderr: "" });

    const screen = cv.imread(shot);
    const expected = renderPatternFrame(FRAME_NUMBER, 640, 480);
    const template = new cv.Mat(480, 640, cv.CV_8UC3, Buffer.from(expected.bytes));
    const { minLoc } = screen.matchTemplate(template, cv.TM_SQDIFF).minMaxLoc();
    const region: Frame = matToFrame(screen.getRegion(new cv.Rect(minLoc.x, minLoc.y, 640, 480)).copy());
    expect(readPatternFrameNumber(region)).toBe(FRAME_NUMBER);
    // Xvfb at 24 bits shows the pixels exactly (the grab leaves the mouse pointer out).
    const db = psnr(expected, region);
    if (db !== Infinity) execFileSync("cp", [shot, "/tmp/udpcam-display-shot.png"]);
    expect(db).toBe(Infinity);
    // And the window does not show some other frame.
    expect(psnr(renderPatternFrame(FRAME_NUMBER + 1, 640, 480), region)).toBeLessThan(30);
  }, 30_000);

  it("auto mode with a display opens a window too", async () => {
    const child = runChild("auto", display, 0.5, withoutDisplay);
    expect(await child.next("open")).toMatchObject({ status: "window" });
    expect(await child.next("end")).toMatchObject({ quit: false, notices: [] });
    expect(await child.done).toMatchObject({ code: 0, stderr: "" });
  }, 20_000);
});

describe("openDisplay without a display", () => {
  it("without DISPLAY: no abort, one clear message, carries on headless", async () => {
    const child = runChild("auto", undefined, 0.3, withoutDisplay);
    expect(await child.next("open")).toMatchObject({ status: "headless", reason: "DISPLAY is not set" });
    expect(await child.next("end")).toEqual({
      event: "end",
      quit: false,
      notices: ["no window: DISPLAY is not set; carrying on without a display"],
    });
    expect(await child.done).toMatchObject({ code: 0, signal: null, stderr: "" });
  }, 20_000);

  it("with a DISPLAY that does not answer (also in the environment): no abort, one clear message", async () => {
    const dead = `:${freeDisplayNumber()}`;
    const child = runChild("auto", dead, 0.3, { ...process.env, DISPLAY: dead });
    const end = await child.next("end");
    expect(end.notices).toEqual([`no window: DISPLAY=${dead}: cannot connect (ENOENT); carrying on without a display`]);
    expect(await child.done).toMatchObject({ code: 0, signal: null, stderr: "" });
  }, 20_000);

  it("mode on without a display is a clear DISPLAY_UNAVAILABLE error", async () => {
    const child = runChild("on", undefined, 0.3, withoutDisplay);
    expect(await child.next("error")).toEqual({
      event: "error",
      code: "DISPLAY_UNAVAILABLE",
      message: "cannot open a window: DISPLAY is not set",
    });
    expect(await child.done).toMatchObject({ code: 0, stderr: "" });
  }, 20_000);

  it("mode off never probes and never opens", async () => {
    const child = runChild("off", ":0", 0.2, withoutDisplay);
    expect(await child.next("open")).toMatchObject({ status: "off" });
    expect(await child.next("end")).toMatchObject({ notices: [] });
  }, 20_000);
});
