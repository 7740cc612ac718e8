#!/usr/bin/env bash
# Makes a machine with only Node and npm ready to build, run and test udpcam.
# Safe to run again: every step checks first, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# OpenCV for the binding, and the real peers and tools the tests and benchmarks use.
APT_PACKAGES=(
  libopencv-dev
  # libjpeg's headers for packages/video's JPEG re-encoder (native/); libopencv-dev brings them too.
  libjpeg-dev
  # packages/video's MPEG-4 writer (native/video_writer.c): FFmpeg's libraries (libopencv-dev brings them too),
  # libyuv for its colour conversion, and pkg-config to find them.
  libavcodec-dev libavformat-dev libavutil-dev libyuv-dev pkg-config
  xvfb xauth xdotool
  ffmpeg
  python3-opencv python3-numpy
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  time
)
# Installed without their recommended packages: Chromium for the live view's browser tests
# (driven by playwright-core, which downloads no browser); its recommends are desktop extras.
APT_PACKAGES_NO_RECOMMENDS=(
  chromium
  # nft: the multicast tests' loss stage on one receiver's link, inside a network namespace.
  nftables
  # GStreamer's RTSP server from Debian's python3: the network-camera tests' RTSP camera.
  python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp
)

missing_debian_packages() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || printf '%s\n' "$pkg"
  done
}

install_debian_packages() {
  local missing=() plain=()
  mapfile -t missing < <(missing_debian_packages "${APT_PACKAGES[@]}")
  mapfile -t plain < <(missing_debian_packages "${APT_PACKAGES_NO_RECOMMENDS[@]}")
  [ ${#missing[@]} -eq 0 ] && [ ${#plain[@]} -eq 0 ] && return
  say "installing Debian packages: ${missing[*]} ${plain[*]} (a few minutes the first time)"
  as_root apt-get update -qq
  if [ ${#missing[@]} -gt 0 ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if [ ${#plain[@]} -gt 0 ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${plain[@]}" >/dev/null
  fi
}

install_pinned_pnpm() {
  local wanted have
  wanted=$(node -p 'require("./package.json").packageManager.replace(/^pnpm@/, "")')
  have=$(COREPACK_ENABLE_STRICT=0 pnpm --version 2>/dev/null || true)
  [ "$have" = "$wanted" ] && return
  say "installing pnpm $wanted (found: ${have:-none})"
  if [ -w "$(npm prefix -g)" ]; then
    npm install -g --silent "pnpm@$wanted"
  else
    as_root npm install -g --silent "pnpm@$wanted"
  fi
}

# shellcheck source=scripts/opencv-env.sh
source scripts/opencv-env.sh
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1

BINDING=packages/video/node_modules/@u4/opencv4nodejs/build/Release/opencv4nodejs.node

install_workspace() {
  local log=node_modules/.udpcam-setup.log
  if [ -d node_modules/.pnpm ] && pnpm install --frozen-lockfile --offline --reporter=silent >/dev/null 2>&1; then
    :
  else
    say "installing the workspace; the first time this compiles the OpenCV binding (5 to 10 minutes)"
    mkdir -p node_modules
    if ! pnpm install --frozen-lockfile --reporter=append-only >"$log.tmp" 2>&1; then
      tail -n 40 "$log.tmp" >&2
      say "pnpm install failed; the whole log is in $log.tmp"
      exit 1
    fi
    mv "$log.tmp" "$log"
  fi
  if [ ! -f "$BINDING" ]; then
    say "building the OpenCV binding (5 to 10 minutes)"
    if ! pnpm rebuild @u4/opencv4nodejs >"$log.tmp" 2>&1; then
      tail -n 40 "$log.tmp" >&2
      say "building @u4/opencv4nodejs failed; the whole log is in $log.tmp"
      exit 1
    fi
  fi
}

build_workspace() {
  if ! pnpm exec turbo run build --output-logs=errors-only >node_modules/.udpcam-build.log 2>&1; then
    cat node_modules/.udpcam-build.log >&2
    say "build failed"
    exit 1
  fi
}

install_debian_packages
install_pinned_pnpm
install_workspace
build_workspace
