// Reads a V8 .cpuprofile (node --cpu-prof) and lists where the samples fell: self time per
// function, the largest first.
import { readFileSync } from "node:fs";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Hotspot {
  readonly name: string;
  readonly share: number;
  readonly ms: number;
}

function where(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^file:\/\//, "").replace(/.*\/(packages|apps|tools|node_modules)\//, "$1/");
  const name = functionName || "(anonymous)";
  return file ? `${name} (${file}:${lineNumber + 1})` : name;
}

export function hotspots(path: string, top: number): Hotspot[] {
  const profile = JSON.parse(readFileSync(path, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const us = profile.timeDeltas[i] ?? 0;
    if (node === undefined) return;
    total += us;
    const key = where(node);
    self.set(key, (self.get(key) ?? 0) + us);
  });
  return [...self.entries()]
    .sort((x, y) => y[1] - x[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, share: total > 0 ? us / total : 0, ms: us / 1000 }));
}
