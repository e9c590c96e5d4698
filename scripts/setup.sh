#!/usr/bin/env bash
# Installs the system packages echoscan needs (idempotent) and builds a release binary.
# Usage: scripts/setup.sh [--no-build] [--test]   (--test adds what the tests use: chromium, setpriv)
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(libzstd-dev liblz4-dev zlib1g-dev libsnappy-dev libbrotli-dev libssl-dev libsqlite3-dev pkg-config zstd lz4 gzip python3)
build=1
for argument in "$@"; do
  case "$argument" in
    --no-build) build=0 ;;
    --test) packages+=(chromium util-linux python3-venv) ;;
  esac
done
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ "$build" -eq 1 ]; then
  swift build -c release --product echoscan 2>&1 | tail -1
fi
