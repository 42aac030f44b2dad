-- A hot set under a crawl: half the reads Zipf(1.0) over the hot keys, half uniform over the crawled keys.
-- Arguments: hot keys file, expected status, crawled keys file.
local hot, cdf, crawl
function init(args)
  hot = common.load_keys(args[1])
  cdf = common.zipf_cdf(#hot, 1.0)
  expected_status = tonumber(args[2]) or 0
  crawl = common.load_keys(args[3])
  math.randomseed(os.time() + (id or 0))
end
function request()
  if math.random() < 0.5 then return wrk.format("GET", hot[common.pick_zipf(cdf)]) end
  return wrk.format("GET", crawl[math.random(#crawl)])
end
