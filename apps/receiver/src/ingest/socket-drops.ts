import { readFileSync } from "node:fs";

/**
 * Datagrams the kernel dropped for a full receive buffer, for the UDP socket
 * bound to `port` (the last column of /proc/net/udp), or undefined where
 * that is not available (not Linux).
 */
export function kernelDrops(port: number): number | undefined {
  let table: string;
  try {
    table = readFileSync("/proc/net/udp", "latin1");
  } catch {
    return undefined;
  }
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  let drops: number | undefined;
  for (const line of table.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields[1]?.endsWith(suffix) !== true) continue;
    drops = (drops ?? 0) + Number(fields[fields.length - 1]);
  }
  return drops;
}
