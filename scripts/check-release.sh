#!/usr/bin/env bash
# The release path, as CI proves it on every run: the pending changesets are valid, and
# @udpcam/protocol as `pnpm publish` would ship it installs into an empty project and works there,
# through every entry point in its `exports`. Needs the protocol package built (turbo does that).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

pnpm exec changeset status

work=$(mktemp -d "${TMPDIR:-/tmp}/udpcam-release-check-XXXXXX")
trap 'rm -rf "$work"' EXIT
pnpm --filter @udpcam/protocol pack --pack-destination "$work" >/dev/null
tarball=$(ls "$work"/*.tgz)

mkdir "$work/consumer"
cd "$work/consumer"
echo '{ "name": "consumer", "private": true, "type": "module" }' >package.json
# Offline: the package has no dependencies, so npm needs nothing but the tarball.
npm install --offline --no-audit --no-fund --loglevel=error "$tarball" >/dev/null

cp "$root/scripts/release-consumer.mjs" main.mjs
node main.mjs
