#!/usr/bin/env bash
# examples/demo.sh: the one-command demo of ilert-sumo (the README's first command).
#
# From a fresh clone on Debian 12 (as root, or with sudo): installs the build dependencies (skipped
# when they are already there), builds the library and the example programs (Release), starts a
# local Sumo Logic emulator and the iLert webhook relay on 127.0.0.1, posts the bundled sample
# webhooks (examples/samples: all eleven event types, a legacy incident-* one, an
# alert-escalation-ended one and a malformed body) exactly as iLert would (curl, Basic auth from the URL), shows each answer, waits
# until Sumo (the emulator) holds every event, prints what it received one line per event, shuts
# both programs down with SIGTERM, and ends with the alert lifecycle table (alerts created, MTTA and
# MTTR mean and p90 per alert source: ilert-sumo-report on what the emulator recorded, the numbers
# of the dashboard in sumo/) and exits 0. Any failure: a message saying what went wrong and a
# non-zero exit status; the two servers are always stopped.
#
# Environment: BUILD_DIR (default <repo>/build-demo), JOBS (default: number of CPUs, at most 2),
# SKIP_APT=1 (never run apt-get), KEEP_TMP=1 (keep the logs and recordings).
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-demo}"
CPUS="$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)"
JOBS="${JOBS:-$(( CPUS < 2 ? CPUS : 2 ))}"
SAMPLES="$ROOT/examples/samples"
USER_PASS="ilert:demo-password"   # what you would put in iLert's webhook URL as user:password@
SUMO_CODE="demo-code"             # the emulator's stand-in for a presigned URL's secret code

TMP=""
EMU_PID=""
RELAY_PID=""

bold() { if [[ -t 1 ]]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }
step() { printf '\n'; bold "==> $*"; }
die() {
  printf '\ndemo: FAILED: %s\n' "$*" >&2
  for f in relay.err emulator.err; do
    if [[ -n "$TMP" && -s "$TMP/$f" ]]; then
      printf -- '--- last lines of %s ---\n' "$f" >&2
      tail -n 15 "$TMP/$f" >&2
    fi
  done
  exit 1
}
cleanup() {
  local rc=$?
  for pid in "$RELAY_PID" "$EMU_PID"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [[ -n "$TMP" && -d "$TMP" ]]; then
    if [[ "${KEEP_TMP:-0}" == 1 || $rc -ne 0 ]]; then
      printf 'demo: logs and recordings kept in %s\n' "$TMP" >&2
    else
      rm -rf "$TMP"
    fi
  fi
  exit $rc
}
trap cleanup EXIT
trap 'die "interrupted"' INT TERM
trap 'die "command failed (line $LINENO): $BASH_COMMAND"' ERR

# Waits (bounded) until file $1 has a first line starting with "listening on"; prints the port.
wait_for_port() {
  local file="$1" pid="$2" name="$3" line=""
  for _ in $(seq 200); do   # 200 x 50 ms = 10 s
    if [[ -s "$file" ]]; then
      line="$(head -n 1 "$file")"
      if [[ "$line" == "listening on "* ]]; then
        printf '%s\n' "${line##*:}"
        return 0
      fi
    fi
    kill -0 "$pid" 2>/dev/null || die "$name exited during start-up"
    sleep 0.05
  done
  die "$name did not print 'listening on HOST:PORT' within 10 s"
}

# Sends SIGTERM and waits (bounded) for a clean exit; fails on a non-zero status.
stop_process() {
  local pid="$1" name="$2" limit="$3" rc=0
  kill -TERM "$pid" 2>/dev/null || die "$name was no longer running"
  for _ in $(seq $(( limit * 10 ))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && die "$name did not exit within ${limit} s of SIGTERM"
  wait "$pid" || rc=$?
  [[ $rc -eq 0 ]] || die "$name exited with status $rc"
}

# ---------------------------------------------------------------------------------------------
step "1/7 Build dependencies (Debian packages)"
# The one package list (.ci/packages.txt), installed by .ci/deps.sh (sudo when not root).
if [[ "${SKIP_APT:-0}" == 1 ]]; then
  bash "$ROOT/.ci/deps.sh" --check || die "missing packages (SKIP_APT=1)"
else
  bash "$ROOT/.ci/deps.sh" || die "installing the packages of .ci/packages.txt failed"
fi

# ---------------------------------------------------------------------------------------------
step "2/7 Build (Release): libilert_sumo, ilert-parse, ilert-sumo-relay, sumo-emulator, ilert-sumo-report -> $BUILD_DIR"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/ilert-sumo-demo.XXXXXX")"
cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DILERT_SUMO_BUILD_EXAMPLES=ON -DILERT_SUMO_BUILD_TESTS=OFF -DILERT_SUMO_BUILD_BENCHMARKS=OFF \
  >"$TMP/configure.log" 2>&1 || { tail -n 30 "$TMP/configure.log" >&2; die "cmake configure failed"; }
cmake --build "$BUILD_DIR" -j "$JOBS" --target ilert-sumo-relay sumo-emulator ilert-parse ilert-sumo-report \
  >"$TMP/build.log" 2>&1 ||
  { tail -n 30 "$TMP/build.log" >&2; die "build failed"; }
tail -n 1 "$TMP/build.log"
RELAY_BIN="$BUILD_DIR/bin/ilert-sumo-relay"
EMU_BIN="$BUILD_DIR/bin/sumo-emulator"
PARSE_BIN="$BUILD_DIR/bin/ilert-parse"
REPORT_BIN="$BUILD_DIR/bin/ilert-sumo-report"
[[ -x "$RELAY_BIN" && -x "$EMU_BIN" && -x "$PARSE_BIN" && -x "$REPORT_BIN" ]] || die "the programs were not built"

echo
echo "The parser alone: ilert-parse examples/samples/*.json (typed event, or an error with path and byte):"
parse_rc=0
(cd "$ROOT" && "$PARSE_BIN" examples/samples/*.json) >"$TMP/parse.out" 2>&1 || parse_rc=$?
sed 's/^/  /' "$TMP/parse.out"
# Exit status 1 is expected: the malformed sample is reported as an ERROR.
[[ $parse_rc -eq 1 ]] || die "ilert-parse exited with $parse_rc (expected 1: one malformed sample)"

# ---------------------------------------------------------------------------------------------
step "3/7 Start a local Sumo Logic HTTP source (sumo-emulator) and the relay, on 127.0.0.1"
"$EMU_BIN" --port 0 --code "$SUMO_CODE" --record "$TMP/received.ndjson" --quiet \
  >"$TMP/emulator.out" 2>"$TMP/emulator.err" &
EMU_PID=$!
EMU_PORT="$(wait_for_port "$TMP/emulator.out" "$EMU_PID" sumo-emulator)"
SUMO_URL="http://127.0.0.1:$EMU_PORT/receiver/v1/http/$SUMO_CODE"
echo "sumo-emulator      listening on 127.0.0.1:$EMU_PORT (records every message it accepts)"

# Secrets come from the environment, never from flags. The category is the one Sumo's iLert app
# and the dashboard in sumo/ read (docs/SUMO_SETUP.md).
ILERT_SUMO_URL="$SUMO_URL" ILERT_SUMO_RELAY_BASIC_AUTH="$USER_PASS" \
  "$RELAY_BIN" --listen 127.0.0.1:0 --category 'webhook/ilert' --fields-from-event \
  --spool-dir "$TMP/spool" --batch-age 200ms --shutdown-timeout 5 \
  >"$TMP/relay.out" 2>"$TMP/relay.err" &
RELAY_PID=$!
RELAY_PORT="$(wait_for_port "$TMP/relay.out" "$RELAY_PID" ilert-sumo-relay)"
WEBHOOK_URL="http://$USER_PASS@127.0.0.1:$RELAY_PORT/ilert"
echo "ilert-sumo-relay   listening on 127.0.0.1:$RELAY_PORT -> Sumo at http://127.0.0.1:$EMU_PORT/receiver/v1/http/****"
echo "                   category webhook/ilert, X-Sumo-Fields from the event, write-ahead spool"
echo "iLert's webhook alert action would be configured with the URL:"
echo "  http://${USER_PASS%%:*}:****@<relay-host>:$RELAY_PORT/ilert"

# ---------------------------------------------------------------------------------------------
step "4/7 POST the sample webhooks, as iLert does (curl, Basic auth from the URL)"
shopt -s nullglob
files=("$SAMPLES"/*.json)
[[ ${#files[@]} -gt 0 ]] || die "no sample webhooks in $SAMPLES"
expected=0
for f in "${files[@]}"; do
  code="$(curl -sS -o "$TMP/answer" -w '%{http_code}' -H 'Content-Type: application/json' \
            --data-binary "@$f" "$WEBHOOK_URL")" || die "curl could not reach the relay"
  printf '  %-34s -> %s %s\n' "$(basename "$f")" "$code" "$(cat "$TMP/answer")"
  case "$code" in
    202) expected=$((expected + 1)) ;;
    400) expected=$((expected + 1)) ;;  # invalid: answered 400 *and* forwarded raw with the error
    *) die "unexpected answer $code for $(basename "$f")" ;;
  esac
done
code="$(curl -sS -o "$TMP/answer" -w '%{http_code}' -H 'Content-Type: application/json' \
          --data-binary "@${files[0]}" "http://127.0.0.1:$RELAY_PORT/ilert")" || die "curl failed"
printf '  %-34s -> %s %s\n' "(same, without credentials)" "$code" "$(cat "$TMP/answer")"
[[ "$code" == 401 ]] || die "a request without credentials was not refused (got $code)"

# ---------------------------------------------------------------------------------------------
step "5/7 What Sumo received (waiting for all $expected messages)"
received=0
for _ in $(seq 300); do   # 300 x 100 ms = 30 s
  received=$( (grep -c '' "$TMP/received.ndjson" 2>/dev/null) || true)
  [[ "$received" -ge "$expected" ]] && break
  kill -0 "$EMU_PID" 2>/dev/null || die "sumo-emulator died"
  sleep 0.1
done
[[ "$received" -ge "$expected" ]] || die "Sumo received $received of $expected messages within 30 s"
[[ "$received" -eq "$expected" ]] || die "Sumo received $received messages, expected exactly $expected"

"$EMU_BIN" --render "$TMP/received.ndjson" >"$TMP/received.txt" || die "could not render the recording"
printf '  %-30s %-26s %-9s %s\n' "X-Sumo-Category" "eventType" "alert id" "summary / error"
re_type='"eventType":"([^"]*)"'
re_id='"id":"([0-9]+)"'
re_summary='"summary":"(([^"\\]|\\.)*)"'
re_code='"code":"([^"]*)"'
re_msg='"message":"(([^"\\]|\\.)*)"'
first_line=""
while IFS= read -r line; do
  category="${line%%]*}"; category="${category#[}"
  message="${line#*] }"
  [[ -z "$first_line" ]] && first_line="$message"
  type="?"; id="-"; text=""
  [[ "$message" =~ $re_type ]] && type="${BASH_REMATCH[1]}"
  [[ "$message" =~ $re_id ]] && id="${BASH_REMATCH[1]}"
  if [[ "$type" == "ilert-sumo-invalid-payload" ]]; then
    [[ "$message" =~ $re_code ]] && text="error ${BASH_REMATCH[1]}"
    [[ "$message" =~ $re_msg ]] && text="$text: ${BASH_REMATCH[1]}"
    text="$text (raw body kept in rawBody)"
  elif [[ "$message" =~ $re_summary ]]; then
    text="${BASH_REMATCH[1]}"
  fi
  (( ${#text} > 70 )) && text="${text:0:67}..."
  printf '  %-30s %-26s %-9s %s\n' "$category" "$type" "$id" "$text"
done <"$TMP/received.txt"
echo
echo "One of these lines in full (what a Sumo search sees; iLert's own field names, 'time' first):"
if (( ${#first_line} > 400 )); then echo "  ${first_line:0:400}..."; else echo "  $first_line"; fi
echo
echo "Relay metrics (GET /metrics, excerpt):"
curl -sS "http://127.0.0.1:$RELAY_PORT/metrics" >"$TMP/metrics.txt" || die "GET /metrics failed"
grep -E '^ilert_sumo_(relay_webhook_requests_total|sender_enqueued_total|sender_delivered_events_total|sender_requests_total)' \
  "$TMP/metrics.txt" | grep -v ' 0$' | sed 's/^/  /' || true
echo
echo "Relay log on stderr, one line per request (first three):"
grep -m 3 ' method=POST ' "$TMP/relay.err" | sed 's/^/  /' || true

# ---------------------------------------------------------------------------------------------
step "6/7 Shut down (SIGTERM: stop accepting, flush, exit 0)"
stop_process "$RELAY_PID" ilert-sumo-relay 15
RELAY_PID=""
grep -E 'shutdown:' "$TMP/relay.err" | sed 's/^/  relay: /' || true
stop_process "$EMU_PID" sumo-emulator 10
EMU_PID=""
echo "  both stopped cleanly."

# ---------------------------------------------------------------------------------------------
step "7/7 The alert lifecycle table (ilert-sumo-report on what Sumo received)"
echo "The core of the 'iLert alert lifecycle' dashboard (sumo/), computed without Sumo: alerts"
echo "created, MTTA (creation -> first accept) and MTTR (creation -> resolve), mean and p90, per"
echo "alert source; each dedupId counted once, invalid payloads left out."
echo
report_rc=0
"$REPORT_BIN" --by source "$TMP/received.ndjson" >"$TMP/report.txt" 2>"$TMP/report.err" || report_rc=$?
[[ $report_rc -eq 0 ]] || { cat "$TMP/report.err" >&2; die "ilert-sumo-report exited with $report_rc"; }
sed 's/^/  /' "$TMP/report.txt"
# The samples hold one accepted and resolved alert: the (all) row must show an MTTA and an MTTR.
grep -Eq '^\(all\) +[0-9]+ +[1-9][0-9]* +[0-9]+\.[0-9]{3}s .* [1-9][0-9]* +[0-9]+\.[0-9]{3}s' "$TMP/report.txt" ||
  die "the lifecycle table has no MTTA/MTTR in its (all) row"
echo
echo "The same by escalation policy or priority: ${REPORT_BIN#"$ROOT"/} --by policy|priority RECORDING"
echo
bold "Demo complete: $expected webhooks in, $received messages at Sumo, nothing lost."
echo "Next: docs/SUMO_SETUP.md (a real Sumo account, the iLert app and the dashboard in sumo/),"
echo "docs/RELAY.md (run the relay for real), README.md (the library's API)."
