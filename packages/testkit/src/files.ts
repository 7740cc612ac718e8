import { createSocket } from "node:dgram";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** A UDP port free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const socket = createSocket("udp4");
    socket.once("error", fail);
    socket.bind(0, "127.0.0.1", () => {
      const { port } = socket.address();
      socket.close(() => done(port));
    });
  });
}

/** A new directory under the system's temporary directory, and how to remove it. */
export function tempDir(prefix = "udpcam-test-"): { readonly path: string; readonly remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Resolves once `path` exists (a peer's ready file); rejects after `timeoutMs`. */
export async function waitForFile(path: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > until) throw new Error(`${path} did not appear within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** A JSON file, parsed; the caller says what it holds (see stats.ts for checked reads). */
export function readJson<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

/** Resolves once some socket is bound to UDP `port` (read from /proc/net/udp, udp6); rejects after `timeoutMs`. */
export async function waitForUdpPort(port: number, timeoutMs = 10_000): Promise<void> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")} `;
  const until = Date.now() + timeoutMs;
  for (;;) {
    const tables = ["/proc/net/udp", "/proc/net/udp6"].map((path) => {
      try {
        return readFileSync(path, "utf8");
      } catch {
        return "";
      }
    });
    // The local address is the second column of each row.
    if (tables.some((table) => table.split("\n").some((row) => row.trim().split(/\s+/)[1]?.endsWith(hex.trim()))))
      return;
    if (Date.now() > until) throw new Error(`nothing bound UDP port ${port} within ${timeoutMs} ms`);
    await sleep(50);
  }
}
