#!/usr/bin/env bash
# Writes the configuration and rings of a one-node, one-replica OpenStack Swift (tempauth, memcached) under DIR,
# for the test fixture to start: swift-node.sh DIR PROXY_PORT ACCOUNT_PORT CONTAINER_PORT OBJECT_PORT MEMCACHED_PORT
# The servers run as the calling user, so DIR needs no special owner. Swift reads /etc/swift/swift.conf (the hash
# path secrets), which Debian's swift package installs.
set -euo pipefail
dir=$1 proxy=$2 account=$3 container=$4 object=$5 memcached=$6
user=$(id -un)
rm -rf "$dir" && mkdir -p "$dir/etc" "$dir/node/d1" "$dir/run" "$dir/cache"

common="[DEFAULT]
bind_ip = 127.0.0.1
workers = 0
user = $user
swift_dir = $dir/etc
devices = $dir/node
mount_check = false
log_level = WARNING
log_address = /nonexistent
log_max_line_length = 2048
recon_cache_path = $dir/cache
"

for server in account container object; do
  port_var=$server
  cat > "$dir/etc/$server-server.conf" <<CONF
$common
bind_port = ${!port_var}

[pipeline:main]
pipeline = $server-server

[app:$server-server]
use = egg:swift#$server
CONF
done

cat > "$dir/etc/proxy-server.conf" <<CONF
$common
bind_port = $proxy

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats tempurl slo dlo tempauth proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
allow_account_management = true
account_autocreate = true

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
storage_url_scheme = http
token_life = 3600

[filter:tempurl]
use = egg:swift#tempurl

[filter:slo]
use = egg:swift#slo
min_segment_size = 1

[filter:dlo]
use = egg:swift#dlo

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$memcached

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:listing_formats]
use = egg:swift#listing_formats
CONF

cd "$dir/etc"
for ring in account:$account container:$container object:$object; do
  name=${ring%%:*} port=${ring##*:}
  swift-ring-builder "$name.builder" create 0 1 1 >/dev/null
  swift-ring-builder "$name.builder" add "r1z1-127.0.0.1:$port/d1" 1 >/dev/null
  swift-ring-builder "$name.builder" rebalance >/dev/null 2>&1 || true
done
ls "$dir/etc"/*.ring.gz >/dev/null
