#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian machine with the .NET 10 SDK. Installs what the tests need,
# idempotently, and leaves nothing running. Prints a plain "N passed, N failed" line at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v dotnet >/dev/null 2>&1; then
  echo "The .NET 10 SDK is required (https://learn.microsoft.com/dotnet/core/install/linux-debian)." >&2
  exit 1
fi

bash scripts/test-deps.sh

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test EdgeRouter.sln -c Release --logger "console;verbosity=normal" 2>&1 | tee "$log" || status=$?

# The read load suite as a short smoke: every scenario must answer without errors and write its reports.
# Throughput is never asserted here (shared, noisy machines); see loadtests/README.md for real runs.
echo "== load-test smoke =="
if ! dotnet run --project loadtests/EdgeRouter.LoadTests -c Release -- reads --smoke; then
  echo "load-test smoke failed"
  status=1
fi

# The same under load with telemetry off, shipped, exported over OTLP and traced: each must answer without errors.
echo "== load-test smoke, telemetry variants =="
if ! dotnet run --project loadtests/EdgeRouter.LoadTests -c Release -- reads --smoke --telemetry --scenarios redirect-hot,stream-10KB-hot; then
  echo "load-test smoke (telemetry variants) failed"
  status=1
fi

# Repeat each failure (name, message, top of the stack) at the end, where a CI log's tail shows it.
awk '
  /^  Failed / { keep = 1; n = 0; print "== failed ==" }
  /^  (Passed|Skipped) |^\[xUnit|^Test Run|^Total tests:/ { keep = 0 }
  keep && n++ < 40 { print }
' "$log"

# Sum the per-project summaries ("Total tests: N" then "Passed: N", "Failed: N", "Skipped: N") into one line any CI reads.
awk '
  /^Total tests:/ { seen = 1 }
  seen && /^ +Passed: [0-9]+$/  { p += $2 }
  seen && /^ +Failed: [0-9]+$/  { f += $2 }
  seen && /^ +Skipped: [0-9]+$/ { s += $2 }
  END { if (seen) printf "tests: %d passed, %d failed, %d skipped\n", p, f, s; else print "tests: no test summary found" }
' "$log"
exit "$status"
