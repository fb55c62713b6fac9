-- wrk script shared by the benchmarks: replays pre-signed raw HTTP requests from a file.
--
-- Usage: wrk ... -s replay.lua URL -- REQUEST_FILE THREADS
-- REQUEST_FILE holds complete HTTP/1.1 requests (request line, headers, body), each ended by a
-- NUL byte. Each thread loads them all and cycles through them from its own starting offset.
-- done() prints one line, prefixed `WRK_RESULT `, with counts and latency percentiles (µs).

local next_thread = 0

function setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
end

local requests = {}
local count = 0
local position = 0

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local data = file:read("*a")
  file:close()
  local start = 1
  while true do
    local stop = string.find(data, "\0", start, true)
    if not stop then break end
    count = count + 1
    requests[count] = string.sub(data, start, stop - 1)
    start = stop + 1
  end
  assert(count > 0, "no requests in " .. args[1])
  local threads = tonumber(args[2]) or 1
  position = math.floor((thread_index or 0) * count / threads)
end

function request()
  position = position % count + 1
  return requests[position]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
