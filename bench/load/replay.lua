-- wrk script replaying pre-signed requests written by mtload.py (raw HTTP/1.1, NUL-separated).
--
--   wrk -t2 -c64 -d10s --latency -s replay.lua URL -- FILE MODE NTHREADS
--
-- MODE "static": the first request of FILE, replayed on every connection (wrk's static path:
--                no Lua call per request, so the load generator costs the same as a plain GET).
-- MODE "once":   every request of FILE is sent exactly once, shared out between the wrk threads
--                (thread k sends requests k, k+T, k+2T, ...). A thread stops when all of its
--                responses are in; its own clock (CLOCK_MONOTONIC via LuaJIT's ffi) times the
--                first request to the last response, since wrk's own duration is always -d.
-- done() prints one "RESULT key=value ..." line that run.sh parses.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } mt_timespec;
int clock_gettime(int clk_id, mt_timespec *tp);
]]
local ts = ffi.new("mt_timespec")
local function now()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local function load_requests(file)
  local f = assert(io.open(file, "rb"))
  local data = f:read("*a")
  f:close()
  local out, pos = {}, 1
  while true do
    local z = string.find(data, "\0", pos, true)
    if not z then
      out[#out + 1] = string.sub(data, pos)
      break
    end
    out[#out + 1] = string.sub(data, pos, z - 1)
    pos = z + 1
  end
  return out
end

-- Main state: number the threads (setup runs before each thread's init).
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  threads[#threads + 1] = thread
end

-- Thread state.
mine, nmine, next_i, ok, bad, received, t_first, t_last = {}, 0, 1, 0, 0, 0, 0, 0

function init(args)
  local file, mode, nthreads = args[1], args[2], tonumber(args[3] or "1")
  local all = load_requests(file)
  if mode == "static" then
    local head, body = string.match(all[1], "^(.-)\r\n\r\n(.*)$")
    local first = true
    for line in string.gmatch(head, "[^\r\n]+") do
      if first then
        wrk.method, wrk.path = string.match(line, "^(%S+) (%S+)")
        first = false
      else
        local k, v = string.match(line, "^([^:]+):%s*(.*)$")
        if k ~= "Content-Length" then wrk.headers[k] = v end
      end
    end
    wrk.body = (body ~= "") and body or nil
    request, response = nil, nil -- static: wrk sends the formatted request as is
  else
    for i = tid + 1, #all, nthreads do mine[#mine + 1] = all[i] end
    nmine = #mine
    -- wrk calls request() once on thread 0 after init to count pipelined requests: answer that
    -- call with the first request without consuming it.
    verifying = (tid == 0)
  end
end

function request()
  if verifying then
    verifying = false
    return mine[1] or ""
  end
  local r = mine[next_i]
  if r == nil then return "" end -- all sent: write nothing, wait for the last responses
  if next_i == 1 then t_first = now() end
  next_i = next_i + 1
  return r
end

function response(status, headers, body)
  received = received + 1
  t_last = now()
  if status == 200 then
    ok = ok + 1
  else
    bad = bad + 1
    if bad <= 3 then io.stderr:write("replay.lua: HTTP " .. status .. ": " .. string.sub(body or "", 1, 300) .. "\n") end
  end
  if received >= #mine then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local dur = summary.duration / 1e6
  local e = summary.errors
  local line = string.format(
    "RESULT requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
    "non2xx=%d connect_err=%d read_err=%d write_err=%d timeouts=%d",
    summary.requests, dur, summary.requests / dur, latency:percentile(50) / 1e3,
    latency:percentile(90) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3,
    e.status, e.connect, e.read, e.write, e.timeout)
  local tot_ok, tot_bad, tot_mine, first, last = 0, 0, 0, nil, nil
  for _, t in ipairs(threads) do
    tot_ok = tot_ok + (t:get("ok") or 0)
    tot_bad = tot_bad + (t:get("bad") or 0)
    tot_mine = tot_mine + (t:get("nmine") or 0)
    local f, l = t:get("t_first") or 0, t:get("t_last") or 0
    if f > 0 and (first == nil or f < first) then first = f end
    if l > 0 and (last == nil or l > last) then last = l end
  end
  if tot_mine > 0 and first and last and last > first then
    line = line .. string.format(" prepared=%d ok=%d not_ok=%d own_s=%.3f ok_per_s=%.1f",
      tot_mine, tot_ok, tot_bad, last - first, tot_ok / (last - first))
  end
  io.write(line .. "\n")
end
