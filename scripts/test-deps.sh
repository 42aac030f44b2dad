#!/usr/bin/env bash
# Installs, idempotently, the real servers the tests start on loopback. Safe to run again and again;
# does nothing when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm  >/dev/null 2>&1 || need_apt+=(npm)
# The load-test smoke run: wrk drives load, nginx gives the baselines.
command -v wrk  >/dev/null 2>&1 || need_apt+=(wrk)
[ -x /usr/sbin/nginx ]         || need_apt+=(nginx-light)
# SFTP tests run a real OpenSSH server.
[ -x /usr/sbin/sshd ]          || need_apt+=(openssh-server)
# FTP tests run pyftpdlib under the system python (TLS through pyOpenSSL); openssl makes the test certificate.
/usr/bin/python3 -c "import pyftpdlib" 2>/dev/null || need_apt+=(python3-pyftpdlib)
/usr/bin/python3 -c "import OpenSSL" 2>/dev/null   || need_apt+=(python3-openssl)
command -v openssl >/dev/null 2>&1                  || need_apt+=(openssl)
# Swift tests run a one-node OpenStack Swift (tempauth needs memcached); swift-ring-builder comes with 'swift'.
for server in proxy account container object; do
  [ -x "/usr/bin/swift-$server-server" ] || need_apt+=("swift-$server")
done
command -v swift-ring-builder >/dev/null 2>&1       || need_apt+=(swift)
[ -x /usr/bin/memcached ]                          || need_apt+=(memcached)
# Scale-out tests run a throwaway PostgreSQL cluster and a Redis server.
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need_apt+=(postgresql)
[ -x /usr/bin/redis-server ]                       || need_apt+=(redis-server)
# The metrics tests run a real Prometheus scraping the router; promtool checks the shipped alert rules.
[ -x /usr/bin/prometheus ]                         || need_apt+=(prometheus)
# The admin's browser tests drive Debian's Chromium with Playwright (Playwright cannot download its own here).
[ -x /usr/bin/chromium ]                           || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "test-deps: installing ${need_apt[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# npm servers (s3rver, fauxqs, azurite), pinned by tests/servers/package-lock.json.
stamp=tests/servers/node_modules/.installed-from-lock
if ! cmp -s tests/servers/package-lock.json "$stamp" 2>/dev/null; then
  echo "test-deps: installing npm test servers"
  (cd tests/servers && npm ci --no-audit --no-fund --loglevel=error)
  cp tests/servers/package-lock.json "$stamp"
fi
