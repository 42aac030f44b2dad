#!/usr/bin/env bash
# What telemetry costs on the hot path, as a share of the router's own CPU: the router (pinned to core 1) serves one
# hot key under wrk (core 0); after a long warm-up, perf samples it, and the share of samples whose stack passes
# through metrics code (OpenTelemetry's, ASP.NET Core's HostingMetrics, the router's) or span code (Activity,
# OpenTelemetry's tracer) is that telemetry's cost. Unlike rps or CPU per request, the share does not move with the
# load of a shared machine.
#
#   bash loadtests/telemetry-profile.sh [redirect|stream] [warm-up seconds]
set -euo pipefail
mode=${1:-redirect}
warm=${2:-40}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/edgerouter-telemetry-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
command -v perf >/dev/null && command -v wrk >/dev/null || { echo "needs perf and wrk (apt-get install linux-perf wrk)" >&2; exit 1; }
dotnet build "$root/src/EdgeRouter/EdgeRouter.csproj" -c Release -v q -nologo >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/config"
printf '{ "storages": [ { "id": "r", "api": "local", "root": "./data/storage", "read": "%s", "storageUrl": "http://127.0.0.1:9/" } ] }' "$mode" > "$work/config/storages.json"
(printf '\x89PNG\r\n\x1a\n'; head -c 10240 /dev/zero) > "$work/a.png"

run() { # name, then the variant's environment
  local name=$1; shift
  rm -rf "$work/data" "$work/spool"
  (cd "$work" && exec env "$@" DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 EDGEROUTER_API_KEY=k \
    EdgeRouter__SiteUrl="http://127.0.0.1:$port/" EdgeRouter__Uploads__SpoolDirectory="$work/spool" Logging__LogLevel__Default=Warning \
    taskset -c 1 dotnet "$root/src/EdgeRouter/bin/Release/net10.0/EdgeRouter.dll" --urls "http://127.0.0.1:$port" > "$work/$name.log" 2>&1) &
  local pid=$!
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.2; done
  curl -sf -X PUT -H "Authorization: Bearer k" -H "Content-Type: image/png" --data-binary @"$work/a.png" "http://127.0.0.1:$port/api/v1/objects/a.png" >/dev/null
  taskset -c 0 wrk -t1 -c64 -d"${warm}s" "http://127.0.0.1:$port/a.png" >/dev/null
  taskset -c 0 wrk -t1 -c64 -d20s "http://127.0.0.1:$port/a.png" > "$work/$name.wrk" &
  local load=$!
  sleep 4
  perf record -F 999 -g -p "$pid" -o "$work/$name.data" -- sleep 12 2>/dev/null >/dev/null
  wait "$load"
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  perf script -i "$work/$name.data" -F comm,ip,sym,dso 2>/dev/null | python3 -c '
import re, sys
metrics = re.compile(r"OpenTelemetry\.Metrics|HostingMetrics|RecordRequestStartMetrics|EdgeRouterMetrics|System\.Diagnostics\.Metrics|MeasurementRecorded")
spans = re.compile(r"System\.Diagnostics\.Activity|OpenTelemetry\.Trace|OpenTelemetry\.Instrumentation|Propagat|Baggage|Sampler|EdgeRouterTelemetry")
jit = re.compile(r"libclrjit")
samples = [s for s in sys.stdin.read().split("\n\n") if s.strip()]
share = lambda p: 100 * sum(1 for s in samples if p.search(s)) / max(1, len(samples))
rps = re.search(r"Requests/sec:\s+([\d.]+)", open(sys.argv[2]).read()).group(1)
print(f"{sys.argv[1]:<18} {len(samples):>7} samples  metrics {share(metrics):4.1f} %  spans {share(spans):4.1f} %  JIT {share(jit):4.1f} %  ({float(rps):,.0f} rps)")
' "$name" "$work/$name.wrk"
}

echo "$mode, $warm s warm-up; share of the router's CPU samples:"
run off EdgeRouter__Metrics__Enabled=false
run shipped X=1
run otlp OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9 OTEL_TRACES_EXPORTER=none
run traced OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9
run traced-scraped OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9 OTEL_METRICS_EXPORTER=none
