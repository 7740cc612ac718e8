/**
 * A folder or file that nobody may write, root included, for the tests of the "not
 * writable" errors: CI runs as root, whom `chmod` does not stop. Not root: chmod.
 * Root: `chattr +i` (ext4, xfs, btrfs), else a read-only bind mount. When neither works
 * here it throws, so such a test fails instead of passing without checking anything.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, statSync } from "node:fs";
import { describeCause } from "../errors.js";

/** Makes `path` read-only; returns what undoes it (call it before removing the path). */
export function makeReadOnly(path: string): () => void {
  const folder = statSync(path).isDirectory();
  if (process.getuid?.() !== 0) {
    chmodSync(path, folder ? 0o500 : 0o400);
    return () => chmodSync(path, folder ? 0o700 : 0o600);
  }
  const tried: string[] = [];
  try {
    execFileSync("chattr", ["+i", path], { stdio: "pipe" });
    return () => execFileSync("chattr", ["-i", path], { stdio: "pipe" });
  } catch (cause) {
    tried.push(`chattr +i: ${describeCause(cause)}`);
  }
  try {
    execFileSync("mount", ["--bind", path, path], { stdio: "pipe" });
    try {
      execFileSync("mount", ["-o", "remount,bind,ro", path], { stdio: "pipe" });
    } catch (cause) {
      execFileSync("umount", [path], { stdio: "pipe" });
      throw cause;
    }
    return () => execFileSync("umount", [path], { stdio: "pipe" });
  } catch (cause) {
    tried.push(`read-only bind mount: ${describeCause(cause)}`);
  }
  throw new Error(`cannot make ${path} read-only for root here (${tried.join("; ")})`);
}
