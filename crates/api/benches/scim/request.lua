-- wrk script for `make bench`: replays the requests of a scenario's file (one per line:
-- METHOD, path, bearer token, body, separated by tabs), each wrk thread taking every n-th line,
-- and prints its measurements as one JSON line for the harness.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local function parse(line)
  local method, target, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
  local headers = {}
  if token ~= "" then
    headers["Authorization"] = "Bearer " .. token
  end
  if body == "" then
    body = nil
  else
    headers["Content-Type"] = "application/scim+json"
  end
  return wrk.format(method, target, headers, body)
end

function init(args)
  local path, count = args[1], tonumber(args[2])
  local lines = {}
  for line in io.lines(path) do
    lines[#lines + 1] = line
  end
  requests = {}
  for n, line in ipairs(lines) do
    if (n - 1) % count == id then
      requests[#requests + 1] = parse(line)
    end
  end
  -- Fewer lines than threads: every thread replays them all.
  if #requests == 0 then
    for _, line in ipairs(lines) do
      requests[#requests + 1] = parse(line)
    end
  end
  index = 0
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,'
      .. '"timeout":%d,"p50_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
end
