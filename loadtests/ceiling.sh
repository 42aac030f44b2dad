#!/usr/bin/env bash
# Where the redirect ceiling is: CPU per request and rps of nginx `return 302`, a bare Kestrel 302
# (loadtests/BareKestrel) and EdgeRouter in redirect mode, all on the same hot key, in alternating rounds.
# Servers run on core 1, wrk on core 0. Usage: loadtests/ceiling.sh [rounds=3] [seconds=8]
set -euo pipefail
rounds=${1:-3}; seconds=${2:-8}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/edgerouter-ceiling.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

"$root/scripts/test-deps.sh" >/dev/null
dotnet build "$root/src/EdgeRouter" -c Release -v q -nologo >/dev/null
dotnet build "$root/loadtests/BareKestrel" -c Release -v q -nologo >/dev/null

target=http://127.0.0.1:5999/
mkdir -p "$work/files" "$work/config" "$work/spool"
cat > "$work/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $work/nginx.pid; error_log $work/nginx.log;
events { worker_connections 1024; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:5981; location / { return 302 $target\$request_uri; } } }
CONF
echo "{ \"storages\": [ { \"id\": \"local\", \"api\": \"local\", \"root\": \"$work/files\", \"read\": \"redirect\", \"storageUrl\": \"$target\" } ] }" > "$work/config/storages.json"

key=ceiling-$RANDOM$RANDOM
taskset -c 1 nginx -c "$work/nginx.conf" & pids+=($!)
BARE_REDIRECT_TARGET=$target DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 taskset -c 1 dotnet "$root/loadtests/BareKestrel/bin/Release/net10.0/BareKestrel.dll" --urls http://127.0.0.1:5982 >/dev/null & pids+=($!)
(cd "$work" && EDGEROUTER_API_KEY=$key EdgeRouter__SiteUrl=http://127.0.0.1:5983/ EdgeRouter__Uploads__SpoolDirectory="$work/spool" \
  Logging__LogLevel__Default=Warning exec taskset -c 1 dotnet "$root/src/EdgeRouter/bin/Release/net10.0/EdgeRouter.dll" --urls http://127.0.0.1:5983) >/dev/null & pids+=($!)
for port in 5981 5982 5983; do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.2; done
done

printf '\x89PNG\r\n\x1a\n%01000d' 0 > "$work/object.png"
path=$(curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: image/png' --data-binary "@$work/object.png" \
  http://127.0.0.1:5983/api/v1/objects | sed -E 's/.*"key":"([^"]+)".*/\1/')

# The process that serves each port: nginx's one worker, or the dotnet process itself (taskset and exec keep the pid).
declare -A server=([5981]=$(pgrep -P "${pids[0]}") [5982]=${pids[1]} [5983]=${pids[2]})
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
measure() { # port -> "rps cpu_us_per_request"
  local pid before after out
  pid=${server[$1]}; before=$(cpu_ticks "$pid")
  out=$(taskset -c 0 wrk -t1 -c32 -d"${seconds}s" "http://127.0.0.1:$1/$path")
  after=$(cpu_ticks "$pid")
  awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '/requests in/ {n = $1} /Requests\/sec/ {r = $2}
    END {printf "%.0f %.2f\n", r, ticks * 1e6 / hz / n}' <<<"$out"
}

echo "warming up (20 s each)..."
for port in 5981 5982 5983; do taskset -c 0 wrk -t1 -c32 -d20s "http://127.0.0.1:$port/$path" >/dev/null; done
printf '%-6s %-28s %-28s %-28s\n' round "nginx return 302" "bare Kestrel 302" "EdgeRouter redirect"
declare -A rps cpu
for round in $(seq "$rounds"); do
  line=$(printf '%-6s' "$round")
  for port in 5981 5982 5983; do
    read -r r c < <(measure "$port"); rps[$port]+="$r "; cpu[$port]+="$c "
    line+=$(printf ' %-28s' "$r rps, $c µs/req")
  done
  echo "$line"
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
n=$(median "${cpu[5981]}"); b=$(median "${cpu[5982]}"); e=$(median "${cpu[5983]}")
awk -v n="$n" -v b="$b" -v e="$e" 'BEGIN {
  printf "median CPU µs/req: nginx %.2f, bare Kestrel %.2f, EdgeRouter %.2f\n", n, b, e
  printf "as throughput ratios per CPU vs nginx: bare Kestrel %.2fx, EdgeRouter %.2fx; EdgeRouter vs bare Kestrel %.2fx\n", n / b, n / e, b / e }'
