#!/usr/bin/env bash
# Make sure PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) answer; start
# them with the machine's own commands if they don't. A service still down is a
# failure, never a skip.
set -euo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_up() {
  local port=$1
  for _ in $(seq 1 30); do
    up "$port" && return 0
    sleep 1
  done
  return 1
}

if ! up 5432; then
  echo "PostgreSQL is down; starting it" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
fi
if ! up 6379; then
  echo "Redis is down; starting it" >&2
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi

wait_up 5432 || { echo "FAIL: PostgreSQL is not answering on 127.0.0.1:5432" >&2; exit 1; }
wait_up 6379 || { echo "FAIL: Redis is not answering on 127.0.0.1:6379" >&2; exit 1; }
echo "PostgreSQL and Redis are up"
