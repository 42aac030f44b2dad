-- A 404 storm: unknown keys, each different, as a scanner or a broken page produces.
-- Arguments: keys file (unused), expected status.
local counter = 0
function init(args)
  expected_status = tonumber(args[2]) or 404
  math.randomseed(os.time() + (id or 0))
end
function request()
  counter = counter + 1
  return wrk.format("GET", string.format("/2026/01/01/missing-%d-%d-%d.png", id or 0, counter, math.random(1000000000)))
end
