#!/usr/bin/env bash
# `make test-pgbouncer`: the PostgreSQL suites with the service's connections going through a
# PgBouncer in transaction pooling mode (Debian's pgbouncer package, installed on first use),
# started here on a private port in front of TEST_DATABASE_URL's server. Prepared statements are
# off (DB_PREPARED_STATEMENTS=false in production): this PgBouncer cannot carry them.
set -euo pipefail
cd "$(dirname "$0")/../.."

TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
PORT=${PGBOUNCER_PORT:-6543}

if ! command -v pgbouncer >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pgbouncer
fi

# host, port and database of the server, from postgres://user@host:port/db?…
server=${TEST_DATABASE_URL#*://}
server=${server#*@}
server=${server%%\?*}
database=${server#*/}
hostport=${server%%/*}
host=${hostport%%:*}
port=${hostport##*:}
[ "$port" = "$hostport" ] && port=5432

dir=$(mktemp -d /tmp/webwork-scim-pgbouncer.XXXXXX)
chmod 755 "$dir"
cat >"$dir/pgbouncer.ini" <<INI
[databases]
$database = host=$host port=$port dbname=$database

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PORT
unix_socket_dir =
pool_mode = transaction
; Every test creates a role of its own; the pooler learns it from the server (trust auth on
; the server behind it, as on this machine and in CI).
auth_type = trust
auth_file = $dir/userlist.txt
auth_user = postgres
auth_query = SELECT usename, passwd FROM pg_shadow WHERE usename = \$1
max_client_conn = 2000
default_pool_size = 40
max_db_connections = 80
server_reset_query =
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
echo '"postgres" ""' >"$dir/userlist.txt"
chown -R postgres "$dir"

stop() {
  [ -f "$dir/pgbouncer.pid" ] && kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
}
trap stop EXIT
runuser -u postgres -- pgbouncer -d "$dir/pgbouncer.ini"
for _ in $(seq 1 50); do
  psql -h 127.0.0.1 -p "$PORT" -U postgres -tAc 'SELECT 1' "$database" >/dev/null 2>&1 && break
  sleep 0.1
done
psql -h 127.0.0.1 -p "$PORT" -U postgres -tAc 'SHOW server_version' "$database" >/dev/null
echo "PgBouncer $(pgbouncer --version | head -n 1 | cut -d' ' -f2) in transaction mode on 127.0.0.1:$PORT"

export TEST_BACKEND=postgres
export TEST_DATABASE_URL
export TEST_POOLER_URL="postgres://postgres@127.0.0.1:$PORT/$database"
export TEST_PREPARED_STATEMENTS=false
# The server processes the suite starts read the setting too.
export DB_PREPARED_STATEMENTS=false
status=0
${CARGO:-cargo} ${TEST_CMD:-nextest run --no-fail-fast} -p webwork-scim-persistence -p webwork-scim-api || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- pgbouncer.log (tail)"
  tail -n 40 "$dir/pgbouncer.log" || true
fi
exit "$status"
