// CPU of a process and everything under it, read from /proc while they run: what a steady stretch of a run costs,
// with the processes' start and end left out (GNU time can only give the whole run).
import { readFileSync, readdirSync } from "node:fs";

/** Run time of every thread of `pid` and of its descendants, in seconds (schedstat: nanoseconds, not ticks). */
export function treeCpuSeconds(pid: number): number {
  let ns = 0;
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
      } catch {
        // the thread ended meanwhile
      }
    }
    for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/))
      if (child !== "") ns += treeCpuSeconds(Number(child)) * 1e9;
  } catch {
    // gone meanwhile
  }
  return ns / 1e9;
}
