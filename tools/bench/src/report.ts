// What every benchmark entry point does alike at its end: its Markdown written to
// docs/benchmarks/ with the hand-written notes of the file it replaces kept, and its run
// wrapped so that a failure is logged, never thrown (a benchmark's exit code stays 0).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { killAllChildren } from "@udpcam/testkit";

/** The line of a report below which the notes are written by hand, and kept from run to run. */
export const ANALYSIS_MARKER = "<!-- analysis -->";

/** Writes `lines` to `out`; from the marker on (if `lines` has it), the previous file's notes are kept. */
export function writeReport(out: string, lines: readonly string[]): void {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, keepAnalysis(out, lines.join("\n")));
}

function keepAnalysis(out: string, generated: string): string {
  const mark = generated.indexOf(ANALYSIS_MARKER);
  if (mark < 0 || !existsSync(out)) return generated;
  const previous = readFileSync(out, "utf8");
  const at = previous.indexOf(ANALYSIS_MARKER);
  return at < 0 ? generated : generated.slice(0, mark) + previous.slice(at);
}

/** Runs a benchmark's `main`: a failure is logged with its stack; `cleanup` runs in any case. */
export async function runBench(
  main: () => Promise<void>,
  log: (line: string) => void,
  cleanup: () => void,
): Promise<void> {
  try {
    await main();
  } catch (error) {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    cleanup();
  }
}

/**
 * What every benchmark entry point sets up alike: a scratch directory, a progress log on stderr under
 * `label`, and a cleanup (children killed, `alsoOnCleanup`, the directory removed) that also runs on
 * Ctrl-C or SIGTERM.
 */
export function benchSession(
  prefix: string,
  label: string,
  alsoOnCleanup?: () => void,
): { readonly dir: string; readonly log: (line: string) => void; readonly cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const cleanup = (): void => {
    killAllChildren();
    alsoOnCleanup?.();
    rmSync(dir, { recursive: true, force: true });
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      cleanup();
      process.exit(130);
    });
  }
  const log = (line: string): void => void process.stderr.write(`${label}: ${line}\n`);
  return { dir, log, cleanup };
}
