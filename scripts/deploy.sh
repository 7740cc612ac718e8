#!/usr/bin/env bash
# Usage: bash scripts/deploy.sh [--built] sender|receiver DIR
# Copies one app, its workspace packages and production dependencies into DIR,
# building the OpenCV binding there against the system's OpenCV. --built: the
# checkout is built already (the e2e test: no build while other tests run from dist/).
set -euo pipefail
cd "$(dirname "$0")/.."
built=no
if [ "${1:-}" = --built ]; then built=yes; shift; fi
if [ $# -ne 2 ] || { [ "$1" != sender ] && [ "$1" != receiver ]; }; then
  echo "usage: bash scripts/deploy.sh [--built] sender|receiver DIR" >&2
  exit 2
fi
source scripts/opencv-env.sh
if [ "$built" = no ]; then pnpm exec turbo run build --filter="@udpcam/$1..." --output-logs=errors-only; fi
pnpm --filter "$1" deploy --prod "$2"
dir=$(realpath "$2")
# pnpm leaves two ties to this checkout (pnpm/pnpm#12176 and the hoisted self-link): the workspace
# packages' files are hard links to ours, so a rebuild here would change the deployed files, and
# node_modules/.pnpm/node_modules/@udpcam/APP links back to apps/APP (nothing resolves it).
find "$dir" -type f -links +1 -exec sh -c 'for f; do cp -p "$f" "$f.copy" && mv -f "$f.copy" "$f"; done' _ {} +
find "$dir" -type l | while read -r link; do
  case "$(realpath -m "$link")" in "$dir"/*) ;; *) rm -f "$link" ;; esac
done
echo "deployed: node $2/dist/main.js --help"
