-- Range reads of the first KiB of hot keys (video players, image decoders probing headers).
-- Arguments: keys file, expected status, range header value.
local keys, cdf, headers
function init(args)
  keys = common.load_keys(args[1])
  cdf = common.zipf_cdf(#keys, 1.0)
  expected_status = tonumber(args[2]) or 0
  headers = { ["Range"] = args[3] or "bytes=0-1023" }
  math.randomseed(os.time() + (id or 0))
end
function request()
  return wrk.format("GET", keys[common.pick_zipf(cdf)], headers)
end
