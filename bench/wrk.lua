-- wrk script for every `make bench` scenario (run by bench/run.mjs).
--
-- Arguments after `--`: <active_ms> <threads> <method> <path> <body> [cold <prefix> <count>]
--   (an empty <body> sends none)
--   active_ms  after this many milliseconds no new request is sent; the connections
--              stay idle until wrk's -d ends, so every request wrk sent is answered and
--              counted (wrk drops requests still in flight when -d ends, and the worker
--              would record clicks for redirects wrk never counted).
--   cold       request /<prefix><i> for i = 0 .. count-1, each exactly once across all
--              threads and connections: every such redirect is a first visit (KV miss).
-- `done` prints one line `BENCH_JSON {...}` that bench/run.mjs parses.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local fixed_request, stop_at, nthreads, cold_prefix, cold_count, cold_next
exhausted = false

function init(args)
  local active_ms = tonumber(args[1])
  nthreads = tonumber(args[2])
  local method, path, body = args[3], args[4], args[5]
  if body == "" then body = nil end
  local headers = {}
  if body then headers["Content-Type"] = "application/json" end
  fixed_request = wrk.format(method, path, headers, body)
  if args[6] == "cold" then
    cold_prefix = args[7]
    cold_count = tonumber(args[8])
    cold_next = id
  end
  stop_at = now_ms() + active_ms
end

-- Called before every request but a connection's first: 0 ms while active, then a pause
-- longer than any run, which keeps that connection quiet until wrk stops.
function delay()
  if exhausted or now_ms() >= stop_at then
    return 3600 * 1000
  end
  return 0
end

-- wrk also calls this once before the run to check the request; in cold mode that skips
-- one key, which is harmless (it is simply never visited).
function request()
  if cold_prefix == nil then
    return fixed_request
  end
  if cold_next >= cold_count then
    -- Out of never-visited keys. A path that cannot be a key answers 404 without
    -- touching D1 or KV; `delay` then keeps the connection quiet, and run.mjs reports
    -- the run as exhausted.
    exhausted = true
    return wrk.format("GET", "/__bench/exhausted")
  end
  local path = "/" .. cold_prefix .. cold_next
  cold_next = cold_next + nthreads
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  local ran_out = false
  for _, t in ipairs(threads) do
    ran_out = ran_out or t:get("exhausted") == true
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"non_2xx_3xx":%d,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"timeouts":%d,"p50_us":%d,"p99_us":%d,' ..
    '"exhausted":%s}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), tostring(ran_out)))
end
