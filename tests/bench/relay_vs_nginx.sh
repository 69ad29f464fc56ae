#!/usr/bin/env bash
# tests/bench/relay_vs_nginx.sh: ilert-sumo-relay against a bare libmicrohttpd server and nginx,
# all answering 202 to the same POST, measured in one run on this machine (issue 12, point 7), next
# to the ceiling: the bare server doing the library's own per-webhook work and nothing else.
#
# Starts, all on 127.0.0.1:
#   * sumo-emulator (decodes and counts every request; the relay delivers to it during the runs),
#   * ilert-sumo-relay (RELAY_ARGS, default --access-log off; no spool, no auth, gzip to the emulator),
#   * bench_bare_mhd (libmicrohttpd with the relay's server setup, reads the body, answers 202),
#   * the ceiling: bench_bare_mhd --work gzip, the same bare server that also parses each body
#     (parse_event), appends its Sumo line to a per-thread batch and gzips every 1 MiB batch at the
#     default level, on the HTTP threads: what every relay built on this library must do per
#     webhook, without the relay's queue, sender thread, delivery, metrics or emulator. With
#     WORK_STEPS="parse line ceiling" the steps --work parse and --work line are measured too,
#     to show what each step costs (WORK_STEPS="" leaves the ceiling out),
#   * with RELAY2_ARGS (e.g. "--compression-level 1") or RELAY2_THREADS set, a second relay,
#     `relay2`, started with --threads RELAY2_THREADS (default RELAY_THREADS), RELAY_ARGS and
#     RELAY2_ARGS, delivering to the same emulator: another configuration of the relay measured in
#     the same run (its ratios, CPU and wire bytes per webhook are printed too),
#   * nginx (a config written into a temp dir: `return 202 '<the relay's answer>';`, access log off,
#     worker_processes auto, run in the foreground as this user; nothing outside the temp dir),
# then runs wrk (tests/bench/post_webhook.lua: one real webhook body, POST, Content-Type set) with
# WRK_THREADS threads and CONNECTIONS connections for DURATION against each, ROUNDS times,
# interleaved (relay, bare, ceiling, nginx, relay, ...), after a WARMUP run against each. Prints one
# row per run (requests/s, p50/p99 latency, load averages before the run), the medians, the
# relay/nginx, relay/bare, ceiling/nginx and relay/ceiling ratios, the servers' CPU time per
# request (from /proc, which load inflates least) and wrk's (bash's `times`), the same ratios
# computed from CPU per request (wrk + server), the servers' context switches per request (from
# /proc: each costs a kernel entry and a cold cache), the processes' peak RSS (VmHWM), and checks that
# every webhook the relay accepted reached the emulator. Everything (wrk included) shares this
# machine's cores.
#
# usage: tests/bench/relay_vs_nginx.sh [BUILD_DIR]   (default: build; needs the targets
#        ilert-sumo-relay sumo-emulator bench_bare_mhd, a Release build)
# env:   DURATION=15s CONNECTIONS=16 WRK_THREADS=2 ROUNDS=3 WARMUP=3s RELAY_THREADS=4 WORK_STEPS=ceiling
#        RELAY_ARGS="--access-log off" RELAY2_ARGS="" RELAY2_THREADS=""
#        WEBHOOK_BODY_FILE=examples/samples/01-alert-created.json
#        NGINX=/usr/sbin/nginx
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${1:-$ROOT/build}"
DURATION="${DURATION:-15s}"
CONNECTIONS="${CONNECTIONS:-16}"
WRK_THREADS="${WRK_THREADS:-2}"
ROUNDS="${ROUNDS:-3}"
WARMUP="${WARMUP:-3s}"
RELAY_THREADS="${RELAY_THREADS:-4}"
RELAY_ARGS="${RELAY_ARGS:---access-log off}"
RELAY2_ARGS="${RELAY2_ARGS:-}"
RELAY2_THREADS="${RELAY2_THREADS:-}"
RELAY2=""  # non-empty when relay2 runs
[[ -n "$RELAY2_ARGS$RELAY2_THREADS" ]] && RELAY2="--threads ${RELAY2_THREADS:-$RELAY_THREADS} $RELAY_ARGS $RELAY2_ARGS"
WORK_STEPS="${WORK_STEPS-ceiling}"  # set and empty: no ceiling
NGINX="${NGINX:-/usr/sbin/nginx}"
export WEBHOOK_BODY_FILE="${WEBHOOK_BODY_FILE:-$ROOT/examples/samples/01-alert-created.json}"
LUA="$ROOT/tests/bench/post_webhook.lua"
ANSWER='{"status":"accepted","eventType":"alert-created","alertId":"8532156"}'

die() { echo "relay_vs_nginx: $*" >&2; exit 2; }
command -v wrk >/dev/null || die "wrk is not installed"
command -v curl >/dev/null || die "curl is not installed"
[[ -x "$NGINX" ]] || die "nginx not found at $NGINX (Debian: nginx-light)"
RELAY_BIN="$BUILD_DIR/bin/ilert-sumo-relay"
EMU_BIN="$BUILD_DIR/bin/sumo-emulator"
BARE_BIN="$BUILD_DIR/bin/bench_bare_mhd"
for b in "$RELAY_BIN" "$EMU_BIN" "$BARE_BIN"; do
  [[ -x "$b" ]] || die "missing $b (cmake --build $BUILD_DIR --target ilert-sumo-relay sumo-emulator bench_bare_mhd)"
done

TMP="$(mktemp -d "${TMPDIR:-/tmp}/relay-vs-nginx.XXXXXX")"
PIDS=()
stop_pid() {  # SIGTERM, wait up to 10 s, then SIGKILL; only our own children
  local pid="$1"
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  rm -rf "$TMP"
}
trap cleanup EXIT

# The port from a program's first stdout line `listening on HOST:PORT` (at most 20 s).
wait_for_port() {
  for _ in $(seq 400); do
    if [[ -s "$1" ]] && head -n 1 "$1" | grep -q '^listening on '; then
      head -n 1 "$1" | sed 's/.*://'
      return 0
    fi
    sleep 0.05
  done
  die "$2 did not start: $(cat "${1%.out}.err" 2>/dev/null | tail -n 5)"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
cpu_ticks() {  # utime + stime of the given pids, in clock ticks
  local total=0 pid t
  for pid in "$@"; do
    t="$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)"
    total=$(( total + t ))
  done
  echo "$total"
}
ctx_switches() {  # voluntary + involuntary context switches of every thread of the given pids
  local total=0 pid n
  for pid in "$@"; do
    n="$(cat "/proc/$pid/task/"*/status 2>/dev/null | awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ {s += $2} END {print s + 0}')"
    total=$(( total + n ))
  done
  echo "$total"
}
server_pids() {  # the processes that serve a target (for the relay: the emulator it delivers to, too)
  case "$1" in
    relay) echo "$RELAY_PID $EMU_PID" ;;
    relay2) echo "$RELAY2_PID $EMU_PID" ;;
    bare) echo "$BARE_PID" ;;
    parse | line | ceiling) echo "${WORK_PID[$1]}" ;;
    nginx) pgrep -P "$NGINX_PID" | tr '\n' ' ' ;;
  esac
}
first_pid() { server_pids "$1" | awk '{print $1}'; }  # a relay's own process, without the emulator
# CPU seconds (user + system) of this shell's reaped children, from a file `times` wrote (bash's
# builtin: run in this shell, not in a $(...) subshell, whose children are its own).
cpu_of_times() { awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); s += a[1] * 60 + a[2] } printf "%.3f", s }' "$1"; }
total() { awk '{s+=$1} END {print s}' "$1"; }  # the sum of a file's numbers, one per line
median() { sort -n | awk '{a[NR]=$1} END {if (NR == 0) {print 0} else if (NR % 2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }
field() { sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p" "$2" | head -n 1; }
metric() { grep -E "^$1 " "$TMP/metrics.txt" | awk '{print $2}' | head -n 1; }

# --- start everything ---
"$EMU_BIN" --port 0 --threads 8 >"$TMP/emu.out" 2>"$TMP/emu.err" &
PIDS+=($!); EMU_PID=$!
EMU_PORT="$(wait_for_port "$TMP/emu.out" sumo-emulator)"

# shellcheck disable=SC2086
env -u ILERT_SUMO_RELAY_BASIC_AUTH -u ILERT_SUMO_RELAY_SPOOL_DIR -u ILERT_SUMO_TOKEN -u ILERT_SUMO_ENDPOINT \
  ILERT_SUMO_URL="http://127.0.0.1:$EMU_PORT/receiver/v1/http/local-code" \
  "$RELAY_BIN" --listen 127.0.0.1:0 --threads "$RELAY_THREADS" $RELAY_ARGS >"$TMP/relay.out" 2>"$TMP/relay.err" &
PIDS+=($!); RELAY_PID=$!
RELAY_PORT="$(wait_for_port "$TMP/relay.out" ilert-sumo-relay)"

if [[ -n "$RELAY2" ]]; then
  # shellcheck disable=SC2086
  env -u ILERT_SUMO_RELAY_BASIC_AUTH -u ILERT_SUMO_RELAY_SPOOL_DIR -u ILERT_SUMO_TOKEN -u ILERT_SUMO_ENDPOINT \
    ILERT_SUMO_URL="http://127.0.0.1:$EMU_PORT/receiver/v1/http/local-code" \
    "$RELAY_BIN" --listen 127.0.0.1:0 $RELAY2 >"$TMP/relay2.out" 2>"$TMP/relay2.err" &
  PIDS+=($!); RELAY2_PID=$!
  RELAY2_PORT="$(wait_for_port "$TMP/relay2.out" "ilert-sumo-relay $RELAY2")"
fi

"$BARE_BIN" --port 0 --threads "$RELAY_THREADS" >"$TMP/bare.out" 2>"$TMP/bare.err" &
PIDS+=($!); BARE_PID=$!
BARE_PORT="$(wait_for_port "$TMP/bare.out" bench_bare_mhd)"

# The ceiling (and its steps): the bare server doing the library's work (bench_bare_mhd --work).
declare -A WORK_PORT WORK_PID
for step in $WORK_STEPS; do
  case "$step" in
    parse | line) mode="$step" ;;
    ceiling) mode=gzip ;;
    *) die "WORK_STEPS: unknown step '$step' (parse, line, ceiling)" ;;
  esac
  "$BARE_BIN" --port 0 --threads "$RELAY_THREADS" --work "$mode" >"$TMP/$step.out" 2>"$TMP/$step.err" &
  PIDS+=($!); WORK_PID[$step]=$!
  WORK_PORT[$step]="$(wait_for_port "$TMP/$step.out" "bench_bare_mhd --work $mode")"
done

NGINX_PORT="$(free_port)"
mkdir -p "$TMP/nginx/logs" "$TMP/nginx/tmp"
cat >"$TMP/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes auto;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/tmp/body;
  proxy_temp_path $TMP/nginx/tmp/proxy;
  fastcgi_temp_path $TMP/nginx/tmp/fastcgi;
  uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
  scgi_temp_path $TMP/nginx/tmp/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    default_type application/json;
    location / { return 202 '$ANSWER'; }
  }
}
EOF
"$NGINX" -p "$TMP/nginx" -e "$TMP/nginx/logs/error.log" -c "$TMP/nginx/nginx.conf" >"$TMP/nginx.out" 2>"$TMP/nginx.err" &
PIDS+=($!); NGINX_PID=$!
for _ in $(seq 400); do
  [[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary "@$WEBHOOK_BODY_FILE" \
        -H 'Content-Type: application/json' "http://127.0.0.1:$NGINX_PORT/ilert" || true)" == 202 ]] && break
  kill -0 "$NGINX_PID" 2>/dev/null || die "nginx did not start: $(cat "$TMP/nginx.err" "$TMP/nginx/logs/error.log")"
  sleep 0.05
done

declare -A URL=(
  [relay]="http://127.0.0.1:$RELAY_PORT/ilert"
  [bare]="http://127.0.0.1:$BARE_PORT/ilert"
  [nginx]="http://127.0.0.1:$NGINX_PORT/ilert"
)
TARGETS=(relay)
if [[ -n "$RELAY2" ]]; then URL[relay2]="http://127.0.0.1:$RELAY2_PORT/ilert"; TARGETS+=(relay2); fi
TARGETS+=(bare)
for step in $WORK_STEPS; do URL[$step]="http://127.0.0.1:${WORK_PORT[$step]}/ilert"; TARGETS+=("$step"); done
TARGETS+=(nginx)
for t in "${TARGETS[@]}"; do
  code="$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary "@$WEBHOOK_BODY_FILE" \
          -H 'Content-Type: application/json' "${URL[$t]}")"
  [[ "$code" == 202 ]] || die "$t answered $code to the webhook, not 202"
done

CPU_MODEL="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
echo "machine: $(nproc) CPUs ($CPU_MODEL), $(uname -sr)"
echo "uptime at start: $(uptime)"
echo "wrk -t $WRK_THREADS -c $CONNECTIONS -d $DURATION -s tests/bench/post_webhook.lua URL   (body: $(basename "$WEBHOOK_BODY_FILE"), $(wc -c <"$WEBHOOK_BODY_FILE") bytes)"
echo "relay: ilert-sumo-relay --threads $RELAY_THREADS $RELAY_ARGS (gzip to sumo-emulator);$([[ -n "$RELAY2" ]] && echo " relay2: ilert-sumo-relay $RELAY2 (to the same emulator);") bare: bench_bare_mhd --threads $RELAY_THREADS;$([[ " $WORK_STEPS " == *" ceiling "* ]] && echo " ceiling: bench_bare_mhd --threads $RELAY_THREADS --work gzip (parse + line + gzip-6 per 1 MiB, on the HTTP threads);") nginx: $("$NGINX" -v 2>&1 | sed 's/.*\///'), worker_processes auto"
echo

run_wrk() {  # target duration out
  wrk -t "$WRK_THREADS" -c "$CONNECTIONS" -d "$2" --latency -s "$LUA" "${URL[$1]}" >"$3" 2>&1 || true
  grep -q '^RESULT ' "$3" || die "wrk against $1 failed: $(cat "$3")"
}

for t in "${TARGETS[@]}"; do run_wrk "$t" "$WARMUP" "$TMP/warmup-$t.txt"; done
RELAY_RSS_IDLE="$(rss_kb "$RELAY_PID")"

printf '%-6s %-7s %10s %9s %9s %9s %7s  %s\n' round what 'req/s' 'p50 ms' 'p99 ms' 'max ms' errors 'load avg before'
for r in $(seq "$ROUNDS"); do
  for t in "${TARGETS[@]}"; do
    load="$(loadavg)"
    out="$TMP/run-$r-$t.txt"
    # shellcheck disable=SC2046
    c0="$(cpu_ticks $(server_pids "$t"))"; r0="$(cpu_ticks "$(first_pid "$t")")"
    # shellcheck disable=SC2046
    s0="$(ctx_switches $(server_pids "$t"))"
    times >"$TMP/times-before"
    run_wrk "$t" "$DURATION" "$out"
    times >"$TMP/times-after"
    awk -v a="$(cpu_of_times "$TMP/times-after")" -v b="$(cpu_of_times "$TMP/times-before")" 'BEGIN { print a - b }' >>"$TMP/wrkcpu-$t"
    # shellcheck disable=SC2046
    c1="$(cpu_ticks $(server_pids "$t"))"; r1="$(cpu_ticks "$(first_pid "$t")")"
    echo $(( c1 - c0 )) >>"$TMP/cpu-$t"
    # shellcheck disable=SC2046
    echo $(( $(ctx_switches $(server_pids "$t")) - s0 )) >>"$TMP/sw-$t"
    echo $(( r1 - r0 )) >>"$TMP/cpu1-$t"  # the relay without its emulator
    rps="$(field rps "$out")"
    errs=$(( $(field status_errors "$out") + $(field connect_errors "$out") + $(field read_errors "$out") + $(field write_errors "$out") + $(field timeouts "$out") ))
    echo "$rps" >>"$TMP/rps-$t"
    echo "$(field p99_us "$out")" >>"$TMP/p99-$t"
    echo "$(field requests "$out")" >>"$TMP/requests-$t"
    printf '%-6s %-7s %10.0f %9.3f %9.3f %9.1f %7d  %s\n' "$r" "$t" "$rps" \
      "$(awk -v v="$(field p50_us "$out")" 'BEGIN{print v/1000}')" \
      "$(awk -v v="$(field p99_us "$out")" 'BEGIN{print v/1000}')" \
      "$(awk -v v="$(field max_us "$out")" 'BEGIN{print v/1000}')" "$errs" "$load"
  done
done
echo "uptime at end:   $(uptime)"
echo

RELAY_HWM="$(hwm_kb "$RELAY_PID")"
BARE_HWM="$(hwm_kb "$BARE_PID")"
NGINX_HWM=0
for w in $(pgrep -P "$NGINX_PID" || true); do NGINX_HWM=$(( NGINX_HWM + $(hwm_kb "$w") )); done

echo "medians over $ROUNDS runs of $DURATION each:"
printf '%-7s %12s %12s\n' what 'req/s' 'p99 ms'
for t in "${TARGETS[@]}"; do
  printf '%-7s %12.0f %12.3f\n' "$t" "$(median <"$TMP/rps-$t")" "$(awk '{print $1/1000}' "$TMP/p99-$t" | median)"
done
rel="$(median <"$TMP/rps-relay")"; bare="$(median <"$TMP/rps-bare")"; ngx="$(median <"$TMP/rps-nginx")"
awk -v r="$rel" -v n="$ngx" -v b="$bare" 'BEGIN { printf "relay/nginx %.2fx (goal >= 0.8x), relay/bare %.2fx, bare/nginx %.2fx\n", r/n, r/b, b/n }'
if [[ -n "$RELAY2" ]]; then
  awk -v r2="$(median <"$TMP/rps-relay2")" -v n="$ngx" -v r="$rel" \
    'BEGIN { printf "relay2/nginx %.2fx, relay2/relay %.2fx\n", r2/n, r2/r }'
fi
for step in $WORK_STEPS; do
  w="$(median <"$TMP/rps-$step")"
  awk -v s="$step" -v w="$w" -v n="$ngx" -v b="$bare" -v r="$rel" \
    'BEGIN { printf "%s/nginx %.2fx, %s/bare %.2fx, relay/%s %.2fx\n", s, w/n, s, w/b, s, r/w }'
done
# CPU per request: server-side CPU time (utime + stime) over all measured runs / requests served.
TICK="$(getconf CLK_TCK)"
cpu_us() { awk -v t="$(total "$1")" -v n="$(total "$2")" -v hz="$TICK" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }'; }
echo "server CPU per request (all measured runs): relay $(cpu_us "$TMP/cpu1-relay" "$TMP/requests-relay") us" \
  "(relay + emulator $(cpu_us "$TMP/cpu-relay" "$TMP/requests-relay") us), bare $(cpu_us "$TMP/cpu-bare" "$TMP/requests-bare") us," \
  "nginx workers $(cpu_us "$TMP/cpu-nginx" "$TMP/requests-nginx") us"
if [[ -n "$RELAY2" ]]; then
  echo "server CPU per request, relay2: $(cpu_us "$TMP/cpu1-relay2" "$TMP/requests-relay2") us (relay2 + emulator $(cpu_us "$TMP/cpu-relay2" "$TMP/requests-relay2") us)"
fi
for step in $WORK_STEPS; do
  echo "server CPU per request, $step: $(cpu_us "$TMP/cpu-$step" "$TMP/requests-$step") us"
done
# Context switches of the servers' threads per request (a relay's include its emulator's).
sw_per() { awk -v t="$(total "$TMP/sw-$1")" -v n="$(total "$TMP/requests-$1")" 'BEGIN { printf "%.2f", t / n }'; }
echo "server context switches per request:$(for t in "${TARGETS[@]}"; do printf ' %s %s' "$t" "$(sw_per "$t")"; done)"
# The same ratios from CPU time, which other load inflates least: with every core busy, requests/s
# is the cores over the CPU one request costs, wrk's share included (wrk's user + system time per
# request against that target), so a ratio is (wrk + server) of one over that of the other.
wrk_us() { awk -v t="$(total "$TMP/wrkcpu-$1")" -v n="$(total "$TMP/requests-$1")" 'BEGIN { printf "%.1f", t * 1e6 / n }'; }
echo "wrk CPU per request:$(for t in "${TARGETS[@]}"; do printf ' %s %s us' "$t" "$(wrk_us "$t")"; done)"
cpu_ratio() {  # target other: (wrk + servers) CPU per request of `other` over that of `target`
  awk -v tw="$(wrk_us "$1")" -v ts="$3" -v ow="$(wrk_us "$2")" -v os="$4" 'BEGIN { printf "%.2f", (ow + os) / (tw + ts) }'
}
NGINX_CPU="$(cpu_us "$TMP/cpu-nginx" "$TMP/requests-nginx")"
printf 'from CPU per request (wrk + server): relay/nginx %sx (relay + emulator), bare/nginx %sx' \
  "$(cpu_ratio relay nginx "$(cpu_us "$TMP/cpu-relay" "$TMP/requests-relay")" "$NGINX_CPU")" \
  "$(cpu_ratio bare nginx "$(cpu_us "$TMP/cpu-bare" "$TMP/requests-bare")" "$NGINX_CPU")"
if [[ -n "$RELAY2" ]]; then
  printf ', relay2/nginx %sx (relay2 + emulator)' "$(cpu_ratio relay2 nginx "$(cpu_us "$TMP/cpu-relay2" "$TMP/requests-relay2")" "$NGINX_CPU")"
fi
for step in $WORK_STEPS; do
  printf ', %s/nginx %sx' "$step" "$(cpu_ratio "$step" nginx "$(cpu_us "$TMP/cpu-$step" "$TMP/requests-$step")" "$NGINX_CPU")"
done
echo
p99="$(awk '{print $1/1000}' "$TMP/p99-relay" | median)"
awk -v p="$p99" 'BEGIN { printf "relay p99 (median of runs) %.3f ms (goal < 5 ms at 16 connections)\n", p }'
echo "peak RSS (VmHWM): relay $((RELAY_HWM / 1024)) MiB (VmRSS after warm-up $((RELAY_RSS_IDLE / 1024)) MiB), bare $((BARE_HWM / 1024)) MiB, nginx workers $((NGINX_HWM / 1024)) MiB"

# --- delivery: everything each relay accepted reached the emulator ---
# Waits (at most 60 s) until the relay `$1` (pid $2, port $3) has delivered all it enqueued, prints
# its counts and the bytes per webhook it sent (raw and on the wire), and adds its 202s to ACCEPTED.
ACCEPTED=0
DELIVERY_OK=1
check_delivery() {
  local name="$1" pid="$2" port="$3" delivered=0 enqueued=1 accepted raw wire
  for _ in $(seq 600); do
    curl -sS "http://127.0.0.1:$port/metrics" >"$TMP/metrics.txt"
    enqueued="$(metric ilert_sumo_sender_enqueued_total)"
    delivered="$(metric ilert_sumo_sender_delivered_events_total)"
    [[ "$delivered" == "$enqueued" ]] && break
    sleep 0.1
  done
  accepted="$(metric 'ilert_sumo_relay_webhook_requests_total\{outcome="accepted",code="202"\}')"
  raw="$(metric 'ilert_sumo_sender_delivered_bytes_total\{kind="raw"\}')"
  wire="$(metric 'ilert_sumo_sender_delivered_bytes_total\{kind="compressed"\}')"
  echo "$name: $accepted webhooks answered 202 (wrk counted $(total "$TMP/requests-$name") in the measured runs, plus warm-up), sender enqueued $enqueued, delivered $delivered;" \
    "$(awk -v r="${raw:-0}" -v w="${wire:-0}" -v n="${delivered:-0}" 'BEGIN { if (n > 0) printf "%.0f bytes per webhook, %.1f on the wire", r / n, w / n }')"
  [[ "$delivered" == "$enqueued" ]] || DELIVERY_OK=0
  ACCEPTED=$(( ACCEPTED + accepted ))
  stop_pid "$pid"
}
check_delivery relay "$RELAY_PID" "$RELAY_PORT"
[[ -n "$RELAY2" ]] && check_delivery relay2 "$RELAY2_PID" "$RELAY2_PORT"
stop_pid "$EMU_PID"
emu_messages="$(sed -n 's/.* accepted, \([0-9]*\) message(s)$/\1/p' "$TMP/emu.err" | tail -n 1)"
echo "the emulator counted ${emu_messages:-?} messages for $ACCEPTED webhooks answered 202 (counts include the start-up checks and the warm-up)"
if [[ "$DELIVERY_OK" != 1 || "${emu_messages:-0}" -lt "$ACCEPTED" ]]; then
  echo "relay_vs_nginx: NOT everything the relays accepted reached the emulator" >&2
  exit 1
fi
