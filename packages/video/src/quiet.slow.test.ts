// Loading and using the package prints nothing: no `Info:` lines from the binding's
// build helper, no OpenCV or FFmpeg warnings. Runs the built dist in child processes.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const PACKAGE_DIR = join(import.meta.dirname, "..");
const DIST = pathToFileURL(join(PACKAGE_DIR, "dist", "index.js")).href;
const dir = mkdtempSync(join(tmpdir(), "udpcam-quiet-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const env: NodeJS.ProcessEnv = { ...process.env };
delete env.DISPLAY;
delete env.OPENCV_LOG_LEVEL;
delete env.QT_LOGGING_RULES;
delete env.OPENCV_FFMPEG_LOGLEVEL;

function run(code: string, cwd: string): { stdout: string; stderr: string; status: number | null } {
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", code], {
    cwd,
    env,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

describe("quiet", () => {
  it("importing @udpcam/video prints nothing (from the package, and from a folder without package.json)", () => {
    for (const [cwd, specifier] of [
      [PACKAGE_DIR, "@udpcam/video"],
      [dir, DIST],
    ] as const) {
      const result = run(
        `const v = await import(${JSON.stringify(specifier)}); console.log(typeof v.openSource, v.opencvVersion());`,
        cwd,
      );
      expect(result.stderr, `stderr, cwd ${cwd}`).toBe("");
      expect(result.stdout, `stdout, cwd ${cwd}`).toBe("function 4.6.0\n");
      expect(result.status).toBe(0);
    }
  });

  it("using every part, including its failures, prints nothing", () => {
    const code = `
      const v = await import(${JSON.stringify(DIST)});
      const codes = [];
      const expectError = async (p) => { try { await p(); codes.push("none"); } catch (e) { codes.push(e.code); } };
      await expectError(() => v.openCamera(0));
      await expectError(() => v.openVideoFile(${JSON.stringify(join(dir, "missing.avi"))}));
      await expectError(() => v.decodeJpeg(new Uint8Array([0xff, 0xd8, 1, 2, 3])));
      await expectError(() => v.decodeJpeg(new Uint8Array(0)));
      await expectError(() => v.openRecorder(${JSON.stringify(join(dir, "x.avi"))}, { fourcc: "ZZZZ" }));
      const r = await v.openRecorder(${JSON.stringify(join(dir, "rec.avi"))});
      for (let n = 0; n < 10; n++) await r.write(v.renderPatternFrame(n, 320, 240));
      await r.close();
      for (const [file, fourcc] of [["pass.avi", "MJPG"], ["enc.avi", "DIVX"]]) {
        const recording = await v.openRecording({ path: ${JSON.stringify(dir)} + "/" + file, fourcc, fps: 25 });
        await recording.write({ kind: "pixels", frame: v.renderPatternFrame(0, 320, 240) });
        await recording.write({ kind: "jpeg", bytes: v.encodeJpeg(v.renderPatternFrame(1, 320, 240), 80), width: 320, height: 240 });
        await recording.close();
      }
      const f = await v.openVideoFile(${JSON.stringify(join(dir, "rec.avi"))}, { pace: "asap" });
      let frames = 0;
      for await (const _ of f) frames++;
      // A damaged file (the first half of the recording) reads without FFmpeg's complaints.
      const fs = await import("node:fs");
      const whole = fs.readFileSync(${JSON.stringify(join(dir, "rec.avi"))});
      fs.writeFileSync(${JSON.stringify(join(dir, "cut.avi"))}, whole.subarray(0, whole.length >> 1));
      for await (const _ of await v.openVideoFile(${JSON.stringify(join(dir, "cut.avi"))}, { pace: "asap" })) {}
      const d = await v.openDisplay({ display: undefined });
      d.show(v.renderPatternFrame(0, 64, 48));
      d.close();
      v.decodeJpeg(v.encodeJpeg(v.renderPatternFrame(0, 64, 48), 50));
      console.log(codes.join(","), frames, d.status);
    `;
    const result = run(code, dir);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(
      "CAMERA_NOT_FOUND,FILE_NOT_FOUND,JPEG_INVALID,JPEG_INVALID,CODEC_UNSUPPORTED 10 headless\n",
    );
  });

  it("(control) the binding loaded directly does print Info: lines, so the checks above can fail", () => {
    const result = run(
      `import { createRequire } from "node:module"; createRequire(${JSON.stringify(join(PACKAGE_DIR, "package.json"))})("@u4/opencv4nodejs");`,
      PACKAGE_DIR,
    );
    expect(result.stdout + result.stderr).toContain("Info:");
  });
});
