#!/usr/bin/env bash
# Usage: bash scripts/deploy.sh sender|receiver DIR
# Copies one app, its workspace packages and production dependencies into DIR,
# building the OpenCV binding there against the system's OpenCV.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 2 ] || { [ "$1" != sender ] && [ "$1" != receiver ]; }; then
  echo "usage: bash scripts/deploy.sh sender|receiver DIR" >&2
  exit 2
fi
source scripts/opencv-env.sh
pnpm exec turbo run build --filter="@udpcam/$1..." --output-logs=errors-only
pnpm --filter "$1" deploy --prod "$2"
echo "deployed: node $2/dist/main.js --help"
