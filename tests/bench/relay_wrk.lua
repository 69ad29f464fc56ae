-- tests/bench/relay_wrk.lua: wrk script for the relay benchmark (tests/bench/relay_wrk.sh).
-- POSTs the bundled sample webhooks (examples/samples/*.json, the valid ones), round-robin. Set SAMPLES_DIR and optionally
-- RELAY_AUTH (user:password, sent as Basic) in the environment.

local samples_dir = os.getenv("SAMPLES_DIR") or "examples/samples"
local auth = os.getenv("RELAY_AUTH")

local function b64(data)
  local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  return ((data:gsub(".", function(x)
    local r, byte = "", x:byte()
    for i = 8, 1, -1 do r = r .. (byte % 2 ^ i - byte % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return chars:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#data % 3 + 1])
end

local bodies = {}
local p = io.popen('ls "' .. samples_dir .. '"/*.json')
for file in p:lines() do
  if not file:find("malformed") then
    local f = io.open(file, "rb")
    bodies[#bodies + 1] = f:read("*a")
    f:close()
  end
end
p:close()
assert(#bodies > 0, "no samples in " .. samples_dir)

local headers = { ["Content-Type"] = "application/json" }
if auth then headers["Authorization"] = "Basic " .. b64(auth) end

-- Requests are formatted once (wrk's Lua runs on the load generator's own cores, which this
-- 2-core benchmark shares with the relay and the emulator).
local requests = {}
local counter = 0

function init(args)
  for i, body in ipairs(bodies) do
    requests[i] = wrk.format("POST", "/ilert", headers, body)
  end
end

function request()
  counter = counter + 1
  return requests[(counter % #requests) + 1]
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d non2xx=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d\n",
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout))
  io.write(string.format("RESULT latency_us p50=%d p90=%d p99=%d p99.9=%d max=%d\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max))
end
