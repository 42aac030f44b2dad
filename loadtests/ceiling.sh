#!/usr/bin/env bash
# Where the ceiling is for a read mode: CPU per request, rps and p99 of nginx, a bare Kestrel app (loadtests/BareKestrel)
# and EdgeRouter, all on the same hot key, in alternating rounds. Servers run on core 1, wrk on core 0.
#   redirect: nginx `return 302`, a bare Kestrel 302, EdgeRouter in redirect mode.
#   proxy:    nginx `proxy_pass` (upstream keepalive), a bare YARP IHttpForwarder, EdgeRouter in proxy mode with the
#             origin cache off, each to the same backend nginx serving a 10 KB object; the backend is its own
#             process, so its CPU is not counted in any of the three.
#   cached:   nginx `proxy_pass` + `proxy_cache` (every request a HIT), a bare Kestrel app writing a 10 KB body from
#             memory, EdgeRouter in proxy mode answering from its origin cache.
# Usage: loadtests/ceiling.sh [redirect|proxy|cached] [rounds=3] [seconds=8]
set -euo pipefail
mode=redirect
if [[ ${1:-} == redirect || ${1:-} == proxy || ${1:-} == cached ]]; then mode=$1; shift; fi
rounds=${1:-3}; seconds=${2:-8}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/edgerouter-ceiling.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

"$root/scripts/test-deps.sh" >/dev/null
dotnet build "$root/src/EdgeRouter" -c Release -v q -nologo >/dev/null
dotnet build "$root/loadtests/BareKestrel" -c Release -v q -nologo >/dev/null

mkdir -p "$work/files" "$work/config" "$work/spool"
chmod 755 "$work" "$work/files" # nginx workers run as another user
if [[ $mode == redirect ]]; then
  target=http://127.0.0.1:5999/ size=1000 baseline="nginx return 302" bare="bare Kestrel 302"
  location="return 302 $target\$request_uri;"
elif [[ $mode == proxy ]]; then
  target=http://127.0.0.1:5980/ size=10000 baseline="nginx proxy_pass" bare="bare YARP forwarder"
  location='proxy_pass http://files; proxy_http_version 1.1; proxy_set_header Connection "";'
else
  target=http://127.0.0.1:5980/ size=10000 baseline="nginx proxy_cache" bare="bare Kestrel 10 KB from memory"
  location='proxy_pass http://files; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_cache hot; proxy_cache_valid 200 1h;'
fi
cat > "$work/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $work/nginx.pid; error_log $work/nginx.log;
events { worker_connections 1024; }
http { access_log off; keepalive_requests 1000000; sendfile on; upstream files { server 127.0.0.1:5980; keepalive 64; }
  proxy_cache_path $work/cache keys_zone=hot:1m use_temp_path=off;
  server { listen 127.0.0.1:5981; location / { $location } } }
CONF
cat > "$work/backend.conf" <<CONF
worker_processes 1; daemon off; pid $work/backend.pid; error_log $work/backend.log;
events { worker_connections 1024; }
http { access_log off; keepalive_requests 1000000; sendfile on; open_file_cache max=100;
  server { listen 127.0.0.1:5980; root $work/files; } }
CONF
read=$mode cache=false
[[ $mode == cached ]] && read=proxy cache=true
[[ $mode == redirect ]] && cache=false
echo "{ \"storages\": [ { \"id\": \"local\", \"api\": \"local\", \"root\": \"$work/files\", \"read\": \"$read\", \"storageUrl\": \"$target\"$([[ $mode != redirect ]] && echo ", \"cache\": $cache") } ] }" > "$work/config/storages.json"

key=ceiling-$RANDOM$RANDOM
taskset -c 1 nginx -c "$work/backend.conf" & pids+=($!)
taskset -c 1 nginx -c "$work/nginx.conf" & pids+=($!)
BARE_TARGET=$target BARE_FORWARD=$([[ $mode == proxy ]] && echo 1 || echo 0) BARE_BODY=$([[ $mode == cached ]] && echo $size || echo 0) DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 \
  taskset -c 1 dotnet "$root/loadtests/BareKestrel/bin/Release/net10.0/BareKestrel.dll" --urls http://127.0.0.1:5982 >/dev/null & pids+=($!)
(cd "$work" && EDGEROUTER_API_KEY=$key EdgeRouter__SiteUrl=http://127.0.0.1:5983/ EdgeRouter__Uploads__SpoolDirectory="$work/spool" \
  Logging__LogLevel__Default=Warning exec taskset -c 1 dotnet "$root/src/EdgeRouter/bin/Release/net10.0/EdgeRouter.dll" --urls http://127.0.0.1:5983) >/dev/null & pids+=($!)
for port in 5981 5982 5983; do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.2; done
done

printf "\\x89PNG\\r\\n\\x1a\\n%0${size}d" 0 > "$work/object.png"
path=$(curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: image/png' --data-binary "@$work/object.png" \
  http://127.0.0.1:5983/api/v1/objects | sed -E 's/.*"key":"([^"]+)".*/\1/')

# The process that serves each port: nginx's one worker, or the dotnet process itself (taskset and exec keep the pid).
declare -A server=([5981]=$(pgrep -P "${pids[1]}" -f "worker process") [5982]=${pids[2]} [5983]=${pids[3]})
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
measure() { # port -> "rps cpu_us_per_request p99_ms"
  local pid before after out
  pid=${server[$1]}; before=$(cpu_ticks "$pid")
  out=$(taskset -c 0 wrk -t1 -c32 -d"${seconds}s" --latency "http://127.0.0.1:$1/$path")
  after=$(cpu_ticks "$pid")
  awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '/requests in/ {n = $1} /Requests\/sec/ {r = $2}
    / 99%/ {p = $2 + 0; if ($2 ~ /us$/) p /= 1000; else if ($2 ~ /[0-9]s$/) p *= 1000}
    END {printf "%.0f %.2f %.2f\n", r, ticks * 1e6 / hz / n, p}' <<<"$out"
}

echo "warming up (20 s each)..."
for port in 5981 5982 5983; do taskset -c 0 wrk -t1 -c32 -d20s "http://127.0.0.1:$port/$path" >/dev/null; done
printf '%-6s %-40s %-40s %-40s\n' round "$baseline" "$bare" "EdgeRouter $read$([[ $mode == cached ]] && echo ", origin cache")"
declare -A rps cpu p99
for round in $(seq "$rounds"); do
  line=$(printf '%-6s' "$round")
  for port in 5981 5982 5983; do
    read -r r c l < <(measure "$port"); rps[$port]+="$r "; cpu[$port]+="$c "; p99[$port]+="$l "
    line+=$(printf ' %-40s' "$r rps, $c µs/req, p99 $l ms")
  done
  echo "$line"
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
n=$(median "${cpu[5981]}"); b=$(median "${cpu[5982]}"); e=$(median "${cpu[5983]}")
echo "median p99 ms: $baseline $(median "${p99[5981]}"), $bare $(median "${p99[5982]}"), EdgeRouter $(median "${p99[5983]}")"
awk -v n="$n" -v b="$b" -v e="$e" -v nn="$baseline" -v bn="$bare" 'BEGIN {
  printf "median CPU µs/req: %s %.2f, %s %.2f, EdgeRouter %.2f\n", nn, n, bn, b, e
  printf "as throughput ratios per CPU vs %s: %s %.2fx, EdgeRouter %.2fx; EdgeRouter vs %s %.2fx\n", nn, bn, n / b, n / e, bn, b / e }'
