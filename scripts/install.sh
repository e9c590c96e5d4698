#!/usr/bin/env bash
# Builds a release binary and puts it on PATH: PREFIX/bin/echoscan (default PREFIX /usr/local),
# with bash and zsh completions when their folders exist. The binary carries its default marker
# list and vendor table, so it works from any directory.
# Usage: scripts/install.sh [PREFIX]
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX="${1:-/usr/local}"
scripts/setup.sh >/dev/null
install -d "$PREFIX/bin"
install -m 0755 .build/release/echoscan "$PREFIX/bin/echoscan"
if [ -d "$PREFIX/share/bash-completion/completions" ] || [ "$PREFIX" = /usr/local ]; then
  install -d "$PREFIX/share/bash-completion/completions"
  "$PREFIX/bin/echoscan" --generate-completion-script bash > "$PREFIX/share/bash-completion/completions/echoscan"
fi
if [ -d "$PREFIX/share/zsh/site-functions" ]; then
  "$PREFIX/bin/echoscan" --generate-completion-script zsh > "$PREFIX/share/zsh/site-functions/_echoscan"
fi
echo "installed $PREFIX/bin/echoscan ($("$PREFIX/bin/echoscan" --version))"
