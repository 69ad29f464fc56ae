#!/usr/bin/env bash
# Installs the Debian 12 packages ilert-sumo needs to build, test and run its examples.
# Used by the README's quick start (via examples/demo.sh) and by .ci/run. Needs root.
set -euo pipefail
packages=(cmake g++ make pkg-config ca-certificates curl
          libcurl4-openssl-dev rapidjson-dev catch2 zlib1g-dev libdeflate-dev libzstd-dev
          libcpp-httplib-dev libmicrohttpd-dev)
if [ "${1:-}" = "--dev" ]; then
  # CI extras: clang + libFuzzer/sanitizer runtimes, ninja.
  packages+=(clang libclang-rt-14-dev ninja-build)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
