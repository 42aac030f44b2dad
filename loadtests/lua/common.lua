-- Shared by every scenario script: the runner prepends it to the shape script it runs.
-- Arguments after "--": keys file, then shape-specific values.

common = {}
local threads = {}

function common.load_keys(path)
  local keys = {}
  for line in io.lines(path) do
    if #line > 0 then keys[#keys + 1] = line end
  end
  assert(#keys > 0, "no keys in " .. path)
  return keys
end

-- Cumulative Zipf(s) weights over ranks 1..n: rank 1 is the hottest key.
function common.zipf_cdf(n, s)
  local cdf, sum = {}, 0
  for i = 1, n do sum = sum + 1 / (i ^ s); cdf[i] = sum end
  for i = 1, n do cdf[i] = cdf[i] / sum end
  return cdf
end

function common.pick_zipf(cdf)
  local r, lo, hi = math.random(), 1, #cdf
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < r then lo = mid + 1 else hi = mid end
  end
  return lo
end

function setup(thread)
  thread:set("id", #threads + 1)
  threads[#threads + 1] = thread
end

-- Statuses other than the scenario's expected one; counted per thread, summed in done().
unexpected = 0
expected_status = 0

function response(status, headers, body)
  if expected_status ~= 0 and status ~= expected_status then unexpected = unexpected + 1 end
end

function done(summary, latency, requests)
  local other = 0
  for _, t in ipairs(threads) do other = other + (t:get("unexpected") or 0) end
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests":%d,"durationUs":%d,"bytes":%d,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,' ..
    '"statusErrors":%d,"timeouts":%d,"unexpectedStatus":%d,"p50Us":%d,"p90Us":%d,"p99Us":%d,"p999Us":%d,"meanUs":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout, other,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.mean))
end


