-- tests/bench/post_webhook.lua: wrk script for tests/bench/relay_vs_nginx.sh.
-- Every request is the same POST of one real iLert webhook body (WEBHOOK_BODY_FILE, default
-- examples/samples/01-alert-created.json, 1.6 KB) with Content-Type: application/json, set once
-- through wrk.method / wrk.body / wrk.headers (no per-request Lua work). The path is the URL's.
-- done() prints one machine-readable line the script parses:
--   RESULT requests=N duration_us=N rps=F status_errors=N (answers >= 400) connect_errors=N read_errors=N write_errors=N
--          timeouts=N p50_us=N p90_us=N p99_us=N p999_us=N max_us=N

local file = os.getenv("WEBHOOK_BODY_FILE") or "examples/samples/01-alert-created.json"
local f = assert(io.open(file, "rb"), "cannot open " .. file)
local body = f:read("*a")
f:close()
assert(#body > 0, file .. " is empty")

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"

function done(summary, latency, requests)
  io.write(string.format(
    "RESULT requests=%d duration_us=%d rps=%.1f status_errors=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d " ..
    "p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6), summary.errors.status,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max))
end
