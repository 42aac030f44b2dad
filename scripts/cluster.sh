#!/usr/bin/env bash
# A local scale-out cluster to try: PostgreSQL (catalog), Redis (shared cache and change notices) and two
# EdgeRouter instances on loopback, sharing config/storages.json. Everything lives under data/cluster/ and
# stops on Ctrl-C. Usage: bash scripts/cluster.sh [first-port]   (routers on 5081 and 5082 by default)
#        bash scripts/cluster.sh --servers-only   (PostgreSQL and Redis alone, e.g. for the load tests' --postgres)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
servers_only=false
if [ "${1:-}" = --servers-only ]; then servers_only=true; shift; fi
base=${1:-5081}
pg_port=55432 redis_port=56379
work=$root/data/cluster
mkdir -p "$work"

bash scripts/test-deps.sh
dotnet build src/EdgeRouter -c Release -v quiet -nologo >/dev/null

pids=()
cleanup() {
  echo; echo "cluster: stopping"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# PostgreSQL refuses to run as root: under root it runs as the 'postgres' system user.
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg=()
if [ "$(id -u)" = 0 ]; then as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups --); chown postgres "$work"; fi
if [ ! -f "$work/pg/PG_VERSION" ]; then
  "${as_pg[@]}" "$bin/initdb" -D "$work/pg" -U edgerouter -A trust -E UTF8 --locale C >/dev/null
fi
# Two routers with a pool of 20 each (Catalog:PoolSize) fit PostgreSQL's default of 100 connections with room to
# spare; Catalog:Instances below lets each router check that at start.
"${as_pg[@]}" "$bin/postgres" -D "$work/pg" -p $pg_port -k "$work" -c listen_addresses=127.0.0.1 -c max_connections=100 >"$work/postgres.log" 2>&1 &
pids+=($!)
redis-server --port $redis_port --bind 127.0.0.1 --save "" --appendonly no >"$work/redis.log" 2>&1 &
pids+=($!)
until "$bin/pg_isready" -q -h 127.0.0.1 -p $pg_port; do sleep 0.2; done
"$bin/psql" -q -h 127.0.0.1 -p $pg_port -U edgerouter -d postgres -tc "SELECT 1 FROM pg_database WHERE datname = 'edgerouter'" | grep -q 1 \
  || "$bin/createdb" -h 127.0.0.1 -p $pg_port -U edgerouter edgerouter

if $servers_only; then
  echo "cluster: PostgreSQL on 127.0.0.1:$pg_port (database edgerouter), Redis on 127.0.0.1:$redis_port. Ctrl-C stops both."
  echo "  load tests: dotnet run --project loadtests/EdgeRouter.LoadTests -c Release -- reads \\"
  echo "    --postgres 'Host=127.0.0.1;Port=$pg_port;Username=edgerouter;Database=edgerouter' --redis 127.0.0.1:$redis_port"
  wait
  exit 0
fi

key=${EDGEROUTER_API_KEY:-cluster-demo-key}
for i in 0 1; do
  port=$((base + i))
  EDGEROUTER_API_KEY=$key \
  EdgeRouter__SiteUrl=http://127.0.0.1:$port/ \
  EdgeRouter__Catalog__Provider=postgres \
  EdgeRouter__Catalog__ConnectionString="Host=127.0.0.1;Port=$pg_port;Username=edgerouter;Database=edgerouter" \
  EdgeRouter__Catalog__Redis=127.0.0.1:$redis_port \
  EdgeRouter__Catalog__Instances=2 \
  EdgeRouter__Uploads__SpoolDirectory=$work/spool-$i \
    dotnet src/EdgeRouter/bin/Release/net10.0/EdgeRouter.dll --urls http://127.0.0.1:$port >"$work/router-$i.log" 2>&1 &
  pids+=($!)
done
for i in 0 1; do
  until curl -fs -o /dev/null http://127.0.0.1:$((base + i))/readyz; do sleep 0.2; done
done

cat <<MSG
cluster: up. Two routers share one catalog, one cache and config/storages.json:
  A: http://127.0.0.1:$base/    B: http://127.0.0.1:$((base + 1))/    upload key: $key
  PostgreSQL 127.0.0.1:$pg_port (database edgerouter), Redis 127.0.0.1:$redis_port; logs in data/cluster/.
Try:
  curl -H "Authorization: Bearer $key" -H "Content-Type: image/png" --data-binary @some.png -X PUT http://127.0.0.1:$base/api/v1/objects/demo.png
  curl -I http://127.0.0.1:$((base + 1))/demo.png
Ctrl-C stops everything.
MSG
wait
