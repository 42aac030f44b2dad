#!/usr/bin/env bash
# What `target`'s open-model engine can inject from one core: the router (redirect mode, as a CDN origin in front of
# public buckets) on core 1, the load on core 0. The baseline is wrk, a closed loop of 64 connections on the same
# core against the same router in the same run: how many requests that core can drive at all.
# Usage: loadtests/target-engine.sh [rates=10000,20000,25000,30000] [seconds=10]
set -euo pipefail
rates=${1:-10000,20000,25000,30000}; seconds=${2:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/edgerouter-engine.XXXXXX)
pid=
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

"$root/scripts/test-deps.sh" >/dev/null
dotnet build "$root/src/EdgeRouter" -c Release -v q -nologo >/dev/null
dotnet build "$root/loadtests/EdgeRouter.LoadTests" -c Release -v q -nologo >/dev/null

mkdir -p "$work/config"
echo '{ "storages": [ { "id": "local", "api": "local", "root": "./data/storage", "read": "redirect", "storageUrl": "https://cdn.example.com/" } ] }' > "$work/config/storages.json"
key=engine-$RANDOM$RANDOM url=http://127.0.0.1:5984/
(cd "$work" && EDGEROUTER_API_KEY=$key EdgeRouter__SiteUrl=$url Logging__LogLevel__Default=Warning \
  exec taskset -c 1 dotnet "$root/src/EdgeRouter/bin/Release/net10.0/EdgeRouter.dll" --urls "${url%/}" >/dev/null) & pid=$!
for _ in $(seq 100); do curl -fs "${url}healthz" >/dev/null && break; sleep 0.2; done

head -c 2048 /dev/urandom > "$work/object.png" && printf '\x89PNG\r\n\x1a\n' | dd of="$work/object.png" conv=notrunc status=none
curl -fs -X PUT -H "Authorization: Bearer $key" -H "Content-Type: image/png" --data-binary "@$work/object.png" "${url}api/v1/objects/engine/hot.png" >/dev/null
taskset -c 0 wrk -t1 -c64 -d5s "${url}engine/hot.png" >/dev/null
wrk_rps=$(taskset -c 0 wrk -t1 -c64 -d"${seconds}s" "${url}engine/hot.png" | awk '/Requests\/sec/ { print $2 }')

taskset -c 0 dotnet "$root/loadtests/EdgeRouter.LoadTests/bin/Release/net10.0/EdgeRouter.LoadTests.dll" target --url "$url" \
  --seed 200 --seed-size 2KiB --upload-key "$key" --steps "$rates" --step-duration "${seconds}s" --warmup 5s --out "$work/report" | grep -v '^ *[0-9]* s  step'

python3 - "$work/report/report.json" "$wrk_rps" <<'PY'
import json, sys
report, wrk = json.load(open(sys.argv[1])), float(sys.argv[2])
print(f"\nwrk on the same core, closed loop of 64 connections: {wrk:,.0f} rps")
print("asked/s   sent/asked  answered/asked  answered/wrk  p99 ms")
for s in report["steps"]:
    a = s["targetRate"]
    print(f"{a:>7,.0f}   {s['sentRate'] / a:10.3f}  {s['answeredRate'] / a:14.3f}  {s['answeredRate'] / wrk:12.2f}  {s['p99Ms']:6.2f}")
PY
