#!/usr/bin/env bash
# What the tests need besides node_modules, installed and started when missing (Debian):
#   Chromium at /usr/bin/chromium (browser tests), Redis on 127.0.0.1:6379, PostgreSQL on
#   127.0.0.1:5432 with trust auth for `postgres` on loopback.
# Does nothing when all of it is there. `npm run test:fresh` runs this, then `npm test`.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

say() { echo "test-deps: $*"; }

# root runs apt-get and the servers itself; anyone else goes through sudo
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else say "needs root for: $* (run as root, or install and start it yourself)"; exit 1
  fi
}

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    say "missing ${missing[*]}, and this is not a Debian/Ubuntu machine (no apt-get): install them, then run npm test"
    exit 1
  fi
  say "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  say "starting redis on 127.0.0.1:6379"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/test-deps.log
fi

if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
  say "starting postgresql on 127.0.0.1:5432"
  ver=$(ls /etc/postgresql | sort -V | tail -n 1)
  hba=/etc/postgresql/$ver/main/pg_hba.conf
  # The tests connect as postgres over TCP without a password (trust on loopback only).
  as_root grep -q '^host all all 127.0.0.1/32 trust' "$hba" ||
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start
fi

for _ in $(seq 1 60); do
  redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1 && break
  sleep 1
done
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { say "redis did not come up on 127.0.0.1:6379"; exit 1; }
pg_isready -h 127.0.0.1 -p 5432 >/dev/null || { say "postgresql did not come up on 127.0.0.1:5432"; exit 1; }
say "chromium, redis and postgresql are ready"
