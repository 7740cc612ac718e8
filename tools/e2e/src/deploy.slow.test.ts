/**
 * Each app deployed on its own (README, "Deploying one app on its own": `scripts/deploy.sh`, which is
 * `pnpm --filter APP deploy --prod DIR`) runs from its folder alone: a deployed sender streams to a deployed
 * receiver, JPEG recorded as it arrived and raw encoded to DIVX, and every frame comes out as it went in. Nothing
 * in either folder points out of it, and every native addon the processes load is the folder's own.
 */
import { execFileSync } from "node:child_process";
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  freePort,
  inspectRecording,
  judgeRecording,
  patternJpeg,
  readReceiverStats,
  REPO_ROOT,
  spawnChild,
  tempDir,
  untilListening,
  type Child,
} from "@udpcam/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordedJpegs, useCleanup } from "./harness.js";

const cleanup = useCleanup();
const FRAMES = 25;
const folders = { sender: "", receiver: "" };

/**
 * What ties `dir` to other files: symbolic links whose target is outside it, and files with other hard links
 * (pnpm links a workspace package's files to the checkout's, so a rebuild there would change them).
 */
function linksOut(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isSymbolicLink()) {
        const target = resolve(at, readlinkSync(path));
        if (!target.startsWith(dir + "/")) out.push(`${path} -> ${target}`);
      } else if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && lstatSync(path).nlink > 1) out.push(`${path}: ${lstatSync(path).nlink} hard links`);
    }
  };
  walk(dir);
  return out;
}

/** The process and its children (the receiver's encoder process), by pid. */
function withChildren(pid: number): number[] {
  const children = readdirSync(`/proc/${pid}/task`).flatMap((task) =>
    readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number),
  );
  return [pid, ...children.flatMap(withChildren)];
}

/** Native addons (.node) the processes have mapped, each with whether it is inside `folder`. */
function addonsMapped(pid: number, folder: string): { path: string; inFolder: boolean }[] {
  const paths = withChildren(pid).flatMap((p) => readFileSync(`/proc/${p}/maps`, "utf8").match(/\/\S+\.node\b/g) ?? []);
  return [...new Set(paths)].map((path) => ({ path, inFolder: path.startsWith(folder + "/") }));
}

function deployedApp(app: "sender" | "receiver", args: readonly string[]): Child {
  const dir = folders[app];
  return spawnChild(process.execPath, [join(dir, "dist/main.js"), "--log-format", "json", ...args], {
    name: app,
    cwd: dir,
  });
}

async function stream(codec: "jpeg" | "raw") {
  const dir = tempDir();
  cleanup.add(dir.remove);
  const port = await freePort();
  const output = join(dir.path, "out.avi");
  const stats = join(dir.path, "stats.json");
  const receiver = await untilListening(
    deployedApp("receiver", [
      ...["--host", "127.0.0.1", "--port", String(port), "--output", output, "--display", "off"],
      ...["--stats", stats, "--idle-exit", "1"],
    ]),
  );
  cleanup.kill(receiver);
  const sender = deployedApp("sender", [
    ...["--host", "127.0.0.1", "--port", String(port)],
    ...["--source", "test", "--codec", codec, "--fps", "25", "--frames", String(FRAMES)],
  ]);
  cleanup.kill(sender);
  await receiver.waitFor(/"msg":"recording to /);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const addons = [
    ...addonsMapped(sender.child.pid ?? 0, folders.sender),
    ...addonsMapped(receiver.child.pid ?? 0, folders.receiver),
  ];
  expect(await sender.exited, sender.stderr()).toBe(0);
  expect(await receiver.exited, receiver.stderr()).toBe(0);
  expect(readReceiverStats(stats).framesRecorded).toBe(FRAMES);
  return { output, dir: dir.path, addons };
}

describe("each app deployed on its own folder (scripts/deploy.sh)", () => {
  const root = tempDir("udpcam-deploy-");
  afterAll(root.remove);
  beforeAll(() => {
    for (const app of ["sender", "receiver"] as const) {
      folders[app] = realpathSync(root.path) + `/${app}`;
      execFileSync("bash", ["scripts/deploy.sh", "--built", app, folders[app]], { cwd: REPO_ROOT, stdio: "pipe" });
    }
  }, 600_000);

  it("the folders hold everything: no symbolic or hard link out of them", () => {
    for (const dir of Object.values(folders)) expect(lstatSync(join(dir, "dist/main.js")).isFile()).toBe(true);
    expect(linksOut(folders.sender)).toEqual([]);
    expect(linksOut(folders.receiver)).toEqual([]);
  });

  it("JPEG: the deployed sender's frames are recorded by the deployed receiver byte for byte", async () => {
    const { output, dir, addons } = await stream("jpeg");
    // The sender's libjpeg addon encodes the test pattern.
    expect(addons.map((a) => a.path)).toContainEqual(expect.stringMatching(/jpeg_transcode\.node$/));
    expect(addons.filter((a) => !a.inFolder)).toEqual([]);
    const jpegs = recordedJpegs(output, dir);
    expect(jpegs).toHaveLength(FRAMES);
    jpegs.forEach((jpeg, n) => expect(Buffer.compare(jpeg, patternJpeg(n, 640, 480, 80)), `frame ${n}`).toBe(0));
  });

  it("raw: encoded to DIVX by the deployed receiver's encoder process, every frame intact, none torn", async () => {
    const { output, addons } = await stream("raw");
    // The encoder process's MPEG-4 writer.
    expect(addons.map((a) => a.path)).toContainEqual(expect.stringMatching(/video_writer\.node$/));
    expect(addons.filter((a) => !a.inFolder)).toEqual([]);
    const verdict = judgeRecording(await inspectRecording(output));
    expect(verdict).toMatchObject({ recorded: FRAMES, intact: FRAMES, torn: 0, repeated: 0, outOfOrder: 0 });
  });
});
