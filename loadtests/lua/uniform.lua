-- Cold set: every key equally likely, so most lookups miss the catalog cache.
-- Arguments: keys file, expected status.
local keys
function init(args)
  keys = common.load_keys(args[1])
  expected_status = tonumber(args[2]) or 0
  math.randomseed(os.time() + (id or 0))
end
function request()
  return wrk.format("GET", keys[math.random(#keys)])
end
