#!/usr/bin/env bash
# `npm test`: lint, typecheck, every package's tests and the release check through turbo, then one
# line with the number of tests passed and failed across all packages. Exits with turbo's code.
set -uo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1

node scripts/test-summary.mjs --clear || exit 1
pnpm exec turbo run lint typecheck test release:check --continue --output-logs=errors-only --concurrency=1
status=$?
node scripts/test-summary.mjs
exit "$status"
