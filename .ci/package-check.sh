#!/usr/bin/env bash
# Packaging and "good citizen" checks (issue 11, points 5 and 6), run by CI after the test suite:
#  1. library only, shared (-DBUILD_SHARED_LIBS=ON, no tests/examples/benchmarks: the documented
#     library-only build): only the public API exported (nm), and tests/consumer built and run
#     against its install (CMake package + pkg-config, the run-time version, the SONAME and the
#     package's version compatibility);
#  2. the .deb: configured for /usr, built with cpack (dependencies by dpkg-shlibdeps), its contents
#     checked, installed with `dpkg -i`, the INSTALLED relay run against the INSTALLED sumo-emulator
#     (a sample webhook must arrive), the installed unit checked with `systemd-analyze verify`
#     where systemd-analyze exists, then the package removed again.
# Usage: bash .ci/package-check.sh [BUILD_DIR_PREFIX]   (default build-pkg: build-pkg-shared,
# build-pkg-deb). Needs root (dpkg -i) and the Debian packages dpkg-dev (dpkg-shlibdeps), binutils
# (nm, readelf), curl, help2man (man pages; skipped without), systemd (systemd-analyze; skipped
# without).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-build-pkg}
jobs=${JOBS:-2}
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
step() { printf '\n==== package-check: %s (%s)\n' "$*" "$(date +%H:%M:%S)"; }
fail() { echo "package-check: FAILED: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
step "library only, shared: exported symbols and the consumer"
shared="$prefix-shared"
rm -rf "$shared"
cmake -S . -B "$shared" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
      -DILERT_SUMO_BUILD_TESTS=OFF -DILERT_SUMO_BUILD_EXAMPLES=OFF -DILERT_SUMO_BUILD_BENCHMARKS=OFF
cmake --build "$shared" -j"$jobs"
lib=$(find "$shared" -maxdepth 1 -name 'libilert_sumo.so.*.*.*' -type f | head -n1)
[ -n "$lib" ] || fail "no libilert_sumo.so.X.Y.Z in $shared"
cmake -DNM=nm -DLIBRARY="$lib" -P cmake/check_exported_symbols.cmake
cmake -DBUILD_DIR="$shared" -DSOURCE_DIR="$PWD/tests/consumer" -DWORK_DIR="$PWD/$shared/consumer-work" \
      -DCXX_COMPILER="$(command -v c++)" -P tests/consumer/run_consumer_test.cmake

# ---------------------------------------------------------------------------------------------
step "the .deb: build"
deb_build="$prefix-deb"
rm -rf "$deb_build"
cmake -S . -B "$deb_build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
      -DILERT_SUMO_BUILD_TESTS=OFF -DILERT_SUMO_BUILD_BENCHMARKS=OFF
cmake --build "$deb_build" -j"$jobs"
(cd "$deb_build" && cpack -G DEB)
deb=$(ls "$deb_build"/ilert-sumo_*.deb | head -n1)
[ -f "$deb" ] || fail "cpack made no .deb"
dpkg-deb --info "$deb"
depends=$(dpkg-deb -f "$deb" Depends)
for dep in libcurl libmicrohttpd libstdc++ zlib1g; do
  grep -q "$dep" <<<"$depends" || fail "Depends lacks $dep: $depends"
done
contents=$(dpkg-deb --contents "$deb")
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
for f in ./usr/bin/ilert-parse ./usr/bin/ilert-sumo-send ./usr/bin/ilert-sumo-relay ./usr/bin/sumo-emulator \
         ./usr/bin/ilert-sumo-report ./usr/lib/systemd/system/ilert-sumo-relay.service \
         ./usr/include/ilert_sumo/parse.hpp ./usr/include/ilert_sumo/version.hpp ./usr/include/ilert_sumo/export.hpp \
         "./usr/lib/$multiarch/libilert_sumo.a" "./usr/lib/$multiarch/cmake/ilert_sumo/ilert_sumoConfig.cmake" \
         "./usr/lib/$multiarch/pkgconfig/ilert_sumo.pc" ./usr/share/doc/ilert_sumo/LICENSE \
         ./usr/share/doc/ilert_sumo/README.md ./usr/share/doc/ilert_sumo/docs/RELAY.md; do
  grep -q " $f\$" <<<"$contents" || fail "$deb lacks $f"
done
if command -v help2man >/dev/null; then
  for p in ilert-parse ilert-sumo-send ilert-sumo-relay sumo-emulator ilert-sumo-report; do
    grep -q " ./usr/share/man/man1/$p.1\$" <<<"$contents" || fail "$deb lacks the man page $p.1"
  done
else
  echo "package-check: help2man not installed: no man pages expected"
fi

# ---------------------------------------------------------------------------------------------
step "the .deb: install, run the installed relay against the installed emulator"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if dpkg-query -W -f='${Status}' ilert-sumo 2>/dev/null | grep -q "install ok installed"; then
    dpkg -r ilert-sumo >/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
dpkg -i "$deb"
[ "$(command -v ilert-sumo-relay)" = /usr/bin/ilert-sumo-relay ] || fail "ilert-sumo-relay is not /usr/bin/ilert-sumo-relay"
/usr/bin/ilert-sumo-relay --version
# Waits (deadline 20 s) until FILE has a `listening on HOST:PORT` line; prints HOST:PORT.
wait_listening() {
  local file=$1 deadline=$((SECONDS + 20)) line
  while [ "$SECONDS" -lt "$deadline" ]; do
    line=$(grep -m1 '^listening on ' "$file" 2>/dev/null || true)
    if [ -n "$line" ]; then echo "${line#listening on }"; return 0; fi
    sleep 0.1
  done
  return 1
}
code="pkgcheck$RANDOM"
/usr/bin/sumo-emulator --port 0 --code "$code" --record "$work/received.ndjson" >"$work/emulator.out" 2>"$work/emulator.err" &
pids+=($!)
emulator=$(wait_listening "$work/emulator.out") || { cat "$work/emulator.err"; fail "the emulator did not start"; }
# As the systemd unit does: the URL from a credential file (ILERT_SUMO_URL_FILE), a write-ahead spool.
printf 'http://%s/receiver/v1/http/%s\n' "$emulator" "$code" >"$work/sumo-url"
chmod 600 "$work/sumo-url"
mkdir -m 700 "$work/spool"
ILERT_SUMO_URL_FILE="$work/sumo-url" /usr/bin/ilert-sumo-relay --listen 127.0.0.1:0 --spool-dir "$work/spool" \
    --batch-age 0.2 >"$work/relay.out" 2>"$work/relay.err" &
pids+=($!)
relay=$(wait_listening "$work/relay.out") || { cat "$work/relay.err"; fail "the relay did not start"; }
sample=examples/samples/01-alert-created.json
status=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$sample" "http://$relay/ilert")
[ "$status" = 202 ] || { cat "$work/relay.err"; fail "the relay answered $status to $sample"; }
event_id=$(grep -o '"eventId" *: *"[^"]*"' "$sample" | head -n1 | sed 's/.*"\([^"]*\)"$/\1/' || true)
deadline=$((SECONDS + 30))
until [ -s "$work/received.ndjson" ] && grep -q 'alert-created' "$work/received.ndjson"; do
  [ "$SECONDS" -lt "$deadline" ] || { cat "$work/relay.err" "$work/emulator.err"; fail "the webhook did not reach the emulator within 30 s"; }
  sleep 0.1
done
if [ -n "$event_id" ]; then
  grep -q "$event_id" "$work/received.ndjson" || fail "the received line lacks eventId $event_id"
fi
echo "package-check: the installed relay delivered $sample to the installed emulator:"
head -c 400 "$work/received.ndjson"; echo
grep -q "$code" "$work/relay.err" "$work/relay.out" && fail "the relay printed the Sumo URL code unredacted"

# ---------------------------------------------------------------------------------------------
step "the installed systemd unit"
unit=/usr/lib/systemd/system/ilert-sumo-relay.service
grep -q '^ExecStart=/usr/bin/ilert-sumo-relay ' "$unit" || fail "$unit does not start /usr/bin/ilert-sumo-relay"
if command -v systemd-analyze >/dev/null; then
  # verify loads the unit (and checks that ExecStart's program exists); any message is a failure.
  # --man=yes also checks the unit's man: link (the man page installed by the package); it needs man.
  man_check=--man=no
  command -v man >/dev/null && man_check=--man=yes
  out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$man_check" "$unit" 2>&1) || { echo "$out"; fail "systemd-analyze verify $unit"; }
  if [ -n "$out" ]; then echo "$out"; fail "systemd-analyze verify printed warnings for $unit"; fi
  echo "package-check: systemd-analyze verify $unit: clean"
  systemd-analyze security --offline=true "$unit" 2>/dev/null | tail -n 1 || true
else
  echo "package-check: systemd-analyze not installed: unit not verified (apt-get install systemd)"
fi

step "done"
echo "package-check: all checks passed"
