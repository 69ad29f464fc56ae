#!/usr/bin/env bash
# tests/bench/relay_wrk.sh: throughput and latency of ilert-sumo-relay alone under load, with every
# bundled sample (tests/bench/relay_vs_nginx.sh compares the relay with nginx and a bare
# libmicrohttpd server on one body; docs/perf/relay.md).
#
# Starts sumo-emulator (no recording) and ilert-sumo-relay on 127.0.0.1 (access log off, gzip to the
# emulator, RELAY_THREADS libmicrohttpd event-loop threads: --threads, each serving many
# connections), drives POST /ilert with wrk (tests/bench/relay_wrk.lua: the bundled valid sample
# webhooks, round-robin, keep-alive connections), then waits until the relay's sender has delivered
# everything it accepted and prints: webhooks/s accepted, p50/p90/p99 latency of the 202 as wrk
# saw it, the relay's own time per request (its /metrics histogram), and what reached the emulator.
# Everything runs on this machine's cores (load generator included).
#
# usage: tests/bench/relay_wrk.sh [BUILD_DIR]   (default build-bench, a Release build:
#        cmake --build build-bench -j2 --target ilert-sumo-relay sumo-emulator)
# env:   DURATION=10s CONNECTIONS=32 WRK_THREADS=1 COMPRESSION=gzip RELAY_THREADS=4 (the relay's
#        default) EXTRA_RELAY_ARGS=
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${1:-$ROOT/build-bench}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
WRK_THREADS="${WRK_THREADS:-1}"
COMPRESSION="${COMPRESSION:-gzip}"
RELAY_THREADS="${RELAY_THREADS:-4}"
EXTRA_RELAY_ARGS="${EXTRA_RELAY_ARGS:-}"

command -v wrk >/dev/null || { echo "bench: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
RELAY_BIN="$BUILD_DIR/bin/ilert-sumo-relay"
EMU_BIN="$BUILD_DIR/bin/sumo-emulator"
[[ -x "$RELAY_BIN" && -x "$EMU_BIN" ]] || { echo "bench: build the examples in $BUILD_DIR first" >&2; exit 2; }

TMP="$(mktemp -d "${TMPDIR:-/tmp}/relay-bench.XXXXXX")"
EMU_PID=""
RELAY_PID=""
cleanup() {
  for pid in "$RELAY_PID" "$EMU_PID"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

wait_for_port() {
  for _ in $(seq 200); do
    if [[ -s "$1" ]] && head -n 1 "$1" | grep -q '^listening on '; then
      head -n 1 "$1" | sed 's/.*://'
      return 0
    fi
    sleep 0.05
  done
  echo "bench: $2 did not start" >&2
  return 1
}
metric() { grep -E "^$1 " "$TMP/metrics.txt" | awk '{print $2}' | head -n 1; }

"$EMU_BIN" --port 0 --quiet --threads 8 >"$TMP/emu.out" 2>"$TMP/emu.err" &
EMU_PID=$!
EMU_PORT="$(wait_for_port "$TMP/emu.out" sumo-emulator)"

# shellcheck disable=SC2086
ILERT_SUMO_URL="http://127.0.0.1:$EMU_PORT/receiver/v1/http/local-code" \
  "$RELAY_BIN" --listen 127.0.0.1:0 --access-log off --compression "$COMPRESSION" \
  --threads "$RELAY_THREADS" $EXTRA_RELAY_ARGS >"$TMP/relay.out" 2>"$TMP/relay.err" &
RELAY_PID=$!
RELAY_PORT="$(wait_for_port "$TMP/relay.out" ilert-sumo-relay)"
URL="http://127.0.0.1:$RELAY_PORT/ilert"

export SAMPLES_DIR="$ROOT/examples/samples"
echo "warm-up: 2 s"
wrk -t "$WRK_THREADS" -c "$CONNECTIONS" -d 2s -s "$ROOT/tests/bench/relay_wrk.lua" "$URL" >/dev/null

CMD="wrk -t $WRK_THREADS -c $CONNECTIONS -d $DURATION --latency -s tests/bench/relay_wrk.lua $URL"
echo "run: $CMD   (relay: --threads $RELAY_THREADS --compression $COMPRESSION --access-log off $EXTRA_RELAY_ARGS)"
wrk -t "$WRK_THREADS" -c "$CONNECTIONS" -d "$DURATION" --latency -s "$ROOT/tests/bench/relay_wrk.lua" "$URL" \
  | tee "$TMP/wrk.txt" | grep -E 'Requests/sec|RESULT|Latency  |50%|99%'

# Everything the relay accepted must reach the emulator.
delivered=0
enqueued=1
for _ in $(seq 600); do   # at most 60 s
  curl -sS "http://127.0.0.1:$RELAY_PORT/metrics" >"$TMP/metrics.txt"
  enqueued="$(metric ilert_sumo_sender_enqueued_total)"
  delivered="$(metric ilert_sumo_sender_delivered_events_total)"
  [[ "$delivered" == "$enqueued" ]] && break
  sleep 0.1
done
accepted="$(metric 'ilert_sumo_relay_webhook_requests_total\{outcome="accepted",code="202"\}')"
raw="$(metric 'ilert_sumo_sender_delivered_bytes_total\{kind="raw"\}')"
wire="$(metric 'ilert_sumo_sender_delivered_bytes_total\{kind="compressed"\}')"
reqs="$(grep -E '^ilert_sumo_sender_requests_total' "$TMP/metrics.txt" | awk '{s+=$2} END {print s+0}')"
sum="$(metric ilert_sumo_relay_webhook_duration_seconds_sum)"
count="$(metric ilert_sumo_relay_webhook_duration_seconds_count)"
under1ms="$(metric 'ilert_sumo_relay_webhook_duration_seconds_bucket\{le="0.001"\}')"
echo
echo "relay accepted (202, warm-up included): $accepted; sender enqueued $enqueued, delivered $delivered"
echo "to the emulator: $reqs requests, $raw raw bytes -> $wire bytes $COMPRESSION"
awk -v s="$sum" -v c="$count" -v u="$under1ms" \
  'BEGIN { printf "relay time per webhook (routing start -> response ready): mean %.1f us, %.3f%% under 1 ms\n", s / c * 1e6, u / c * 100 }'
[[ "$delivered" == "$enqueued" ]] || { echo "bench: not everything was delivered" >&2; exit 1; }
