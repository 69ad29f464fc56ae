#!/usr/bin/env bash
# Unpacks Catch2 3 from Debian's bookworm-backports into a private prefix (default /opt/catch2-3)
# so CI can build the tests against Catch2 3 as well. The system's Catch2 2.13 (package catch2
# from bookworm, what the README's build uses) stays installed and untouched: the backports
# package is only downloaded and extracted with `dpkg -x`, never installed. Needs root; idempotent.
# Prints nothing on stdout but the prefix to pass as CMAKE_PREFIX_PATH (<prefix>/usr).
# Usage: bash .ci/catch2-v3.sh [prefix]
set -euo pipefail
prefix="${1:-/opt/catch2-3}"
log() { echo "catch2-v3: $*" >&2; }

find_config() { find "$prefix" -path '*/cmake/Catch2/Catch2ConfigVersion.cmake' -print -quit 2>/dev/null || true; }

if [ -z "$(find_config)" ]; then
  export DEBIAN_FRONTEND=noninteractive
  # 1. bookworm-backports as an apt source of its own (no change to the existing sources).
  if ! grep -rqs --include='*.list' --include='*.sources' --include=sources.list \
         -E '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    log "adding the bookworm-backports apt source"
    cat > /etc/apt/sources.list.d/bookworm-backports.sources <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  fi
  # 2. Backports' usual pin (its Release file says NotAutomatic + ButAutomaticUpgrades, i.e. 100),
  #    written down so an `apt-get install`/`upgrade` never takes anything from backports.
  if [ ! -f /etc/apt/preferences.d/bookworm-backports ]; then
    cat > /etc/apt/preferences.d/bookworm-backports <<'EOF'
# Added by ilert-sumo's .ci/catch2-v3.sh: nothing is installed or upgraded from backports unless
# asked for by name (CI only downloads catch2 3 from there and unpacks it into a private prefix).
Package: *
Pin: release n=bookworm-backports
Pin-Priority: 100
EOF
  fi
  apt-get update -qq
  # The system's candidate for catch2 must still be 2.x (the README's build uses it).
  candidate=$(apt-cache policy catch2 | awk '/Candidate:/ {print $2}')
  case "$candidate" in
    2.*) ;;
    *) log "apt's candidate for catch2 is '$candidate', expected 2.x (backports pin broken?)"; exit 1 ;;
  esac
  # 3. Download the backports package and unpack it (no install, no dependencies needed:
  #    Catch2 3's libraries are static). In backports `catch2` is a transitional package; the
  #    headers, libraries and CMake package are in libcatch2-dev.
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  chmod 0755 "$work"
  if id _apt >/dev/null 2>&1; then chown _apt "$work"; fi
  (cd "$work" && apt-get download -qq libcatch2-dev/bookworm-backports >&2)
  deb=$(ls "$work"/libcatch2-dev_*.deb)
  version=$(dpkg-deb -f "$deb" Version)
  case "$version" in
    3.*) ;;
    *) log "bookworm-backports' libcatch2-dev is $version, expected 3.x"; exit 1 ;;
  esac
  rm -rf "$prefix"
  mkdir -p "$prefix"
  dpkg -x "$deb" "$prefix"
  log "unpacked libcatch2-dev $version into $prefix"
fi

config=$(find_config)
if [ -z "$config" ]; then
  log "no Catch2ConfigVersion.cmake under $prefix"
  exit 1
fi
echo "$prefix/usr"
