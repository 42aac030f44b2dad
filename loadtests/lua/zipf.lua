-- Hot set: keys chosen with a Zipf(1.0) law, so a few keys take most reads (a CDN miss pattern).
-- Arguments: keys file, expected status.
local keys, cdf
function init(args)
  keys = common.load_keys(args[1])
  cdf = common.zipf_cdf(#keys, 1.0)
  expected_status = tonumber(args[2]) or 0
  math.randomseed(os.time() + (id or 0))
end
function request()
  return wrk.format("GET", keys[common.pick_zipf(cdf)])
end
