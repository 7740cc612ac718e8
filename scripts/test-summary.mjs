// The line `npm test` ends with: `N passed, N failed` (and `, N skipped` when some were), summed over
// the JSON report each package's last vitest run wrote (the root vitest.config.ts asks for it).
// `--clear` deletes the reports instead, before turbo runs, so a package whose tests did not run this
// time is reported as such, not counted from an earlier run. Run twice by scripts/test.sh.
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
/** The name vitest.config.ts gives `outputFile.json`, relative to each package. */
const REPORT = ".test-report.json";
/** The folders pnpm-workspace.yaml takes packages from. */
const WORKSPACE_FOLDERS = ["apps", "packages", "tools"];

/** Every workspace package with a `test` script: its name and the path of its report. */
function testedPackages() {
  return WORKSPACE_FOLDERS.flatMap((folder) =>
    readdirSync(join(root, folder), { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(join(root, folder, entry.name, "package.json")))
      .map((entry) => join(root, folder, entry.name)),
  )
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }))
    .filter(({ manifest }) => typeof manifest.scripts?.test === "string")
    .map(({ dir, manifest }) => ({ name: manifest.name ?? relative(root, dir), report: join(dir, REPORT) }));
}

/**
 * One report's counts. A test file that failed without a failed test (it did not load, or a hook
 * threw) counts as one failure, so `0 failed` always means that everything that ran passed.
 */
function countReport(report) {
  const brokenFiles = report.testResults.filter(
    (file) => file.status === "failed" && !file.assertionResults.some((test) => test.status === "failed"),
  );
  return {
    passed: report.numPassedTests,
    failed: report.numFailedTests + brokenFiles.length,
    skipped: report.numPendingTests + report.numTodoTests,
    notes: brokenFiles.map(
      (file) => `${relative(root, file.name)}: ${file.message.split("\n")[0] || "failed outside its tests"}`,
    ),
  };
}

function summarize(packages) {
  const total = { passed: 0, failed: 0, skipped: 0 };
  const notes = [];
  for (const { name, report } of packages) {
    if (!existsSync(report)) {
      notes.push(`${name}: no test report (its tests did not run)`);
      continue;
    }
    let counts;
    try {
      counts = countReport(JSON.parse(readFileSync(report, "utf8")));
    } catch (error) {
      notes.push(`${name}: unreadable test report ${relative(root, report)}: ${String(error)}`);
      continue;
    }
    total.passed += counts.passed;
    total.failed += counts.failed;
    total.skipped += counts.skipped;
    notes.push(...counts.notes.map((note) => `${name}: ${note}`));
  }
  const skipped = total.skipped > 0 ? `, ${total.skipped} skipped` : "";
  return [...notes, `${total.passed} passed, ${total.failed} failed${skipped}`];
}

const packages = testedPackages();
if (process.argv.includes("--clear")) {
  for (const { report } of packages) rmSync(report, { force: true });
} else {
  process.stdout.write(summarize(packages).join("\n") + "\n");
}
