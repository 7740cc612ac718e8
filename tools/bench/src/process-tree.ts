// A process and everything under it, read from /proc while they run: their memory now, and their CPU so far (what a
// steady stretch of a run costs, with the processes' start and end left out: GNU time can only give the whole run).
import { readFileSync, readdirSync } from "node:fs";

/** `pid` and its descendants, parents first; a process gone meanwhile is left out with what was under it. */
function processTree(pid: number): number[] {
  const tree = [pid];
  try {
    for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/))
      if (child !== "") tree.push(...processTree(Number(child)));
  } catch {
    return [];
  }
  return tree;
}

/** Resident memory of one process, KiB (0 once gone). */
export function ownRssKiB(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Resident memory of a process and every process under it, KiB (0 once gone). */
export function treeRssKiB(pid: number): number {
  return processTree(pid).reduce((total, member) => total + ownRssKiB(member), 0);
}

/** Run time of every thread of a process and of its descendants, seconds (schedstat: nanoseconds, not ticks). */
export function treeCpuSeconds(pid: number): number {
  let ns = 0;
  for (const member of processTree(pid)) {
    try {
      for (const task of readdirSync(`/proc/${member}/task`))
        ns += Number(readFileSync(`/proc/${member}/task/${task}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // gone meanwhile
    }
  }
  return ns / 1e9;
}
