import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root (this file is packages/testkit/{src,dist}/paths.*). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const SENDER_MAIN = join(REPO_ROOT, "apps/sender/dist/main.js");
export const RECEIVER_MAIN = join(REPO_ROOT, "apps/receiver/dist/main.js");
export const NETSIM_CLI = join(REPO_ROOT, "tools/netsim/dist/cli.js");
/** The original scripts udpcam replaces, kept as peers for interop tests and the benchmark. */
export const SEED_CLIENT = join(REPO_ROOT, "tools/seed/seed_client.py");
export const SEED_SERVER = join(REPO_ROOT, "tools/seed/seed_server.py");
/** Debian's python3, which has cv2 (python3-opencv); the one on PATH may not. */
export const SYSTEM_PYTHON = "/usr/bin/python3";
