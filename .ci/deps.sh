#!/usr/bin/env bash
# Installs the Debian 12 packages in .ci/packages.txt (the one list; with --dev also
# .ci/packages-dev.txt) that are not installed yet. Used by examples/demo.sh (the README's quick
# start) and .ci/run. Needs root, or sudo.
#   bash .ci/deps.sh [--dev] [--check]   --check: only report what is missing (exit 1 if anything)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lists=("$here/packages.txt")
check_only=0
for arg in "$@"; do
  case "$arg" in
    --dev) lists+=("$here/packages-dev.txt") ;;
    --check) check_only=1 ;;
    *) echo "deps.sh: unknown argument $arg (use --dev, --check)" >&2; exit 2 ;;
  esac
done
packages=()
for list in "${lists[@]}"; do
  while read -r line; do
    line="${line%%#*}"
    line="${line//[[:space:]]/}"
    [ -n "$line" ] && packages+=("$line")
  done <"$list"
done
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "all installed: ${packages[*]}"
  exit 0
fi
if [ "$check_only" = 1 ]; then
  echo "missing: ${missing[*]}"
  exit 1
fi
echo "installing: ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps.sh: run as root (or install sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "installed."
