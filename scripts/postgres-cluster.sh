#!/usr/bin/env bash
# A throw-away PostgreSQL server on 127.0.0.1 from Debian's packages, for tests, benchmarks and trying the
# two-instance topology. It runs as the invoking user, or as `postgres` when invoked by root (PostgreSQL refuses root).
#
#   postgres-cluster.sh init DIR PORT   initdb (password auth, TLS with a self-signed certificate), then start;
#                                       prints the URL of database `postgres` (also in DIR/url)
#   postgres-cluster.sh start DIR       start again (after stop)
#   postgres-cluster.sh stop DIR [fast|immediate]
#   postgres-cluster.sh createdb DIR NAME   prints NAME's URL
#   postgres-cluster.sh destroy DIR     stop and remove
set -euo pipefail
command=${1:?usage: postgres-cluster.sh init|start|stop|createdb|destroy DIR ...}
dir=${2:?a cluster folder}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
url_for() { echo "postgres://cnsgw:$(cat "$dir/password")@127.0.0.1:$(cat "$dir/port")/$1"; }
case "$command" in
  init)
    port=${3:?a port}
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$dir/password"
    echo "$port" > "$dir/port"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3 -subj "/CN=localhost" \
      -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$dir/server.key" -out "$dir/server.crt" 2>/dev/null
    chmod 600 "$dir/server.key" "$dir/password"
    [ "$(id -u)" -eq 0 ] && chown -R postgres "$dir" && chmod 755 "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U cnsgw --auth=scram-sha-256 --pwfile="$dir/password" -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    cat >> "$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 300
ssl = on
ssl_cert_file = '$dir/server.crt'
ssl_key_file = '$dir/server.key'
# A test database.
# fsync off survives a server crash (not an OS crash); commits are synchronous, so a committed row survives kill -9.
fsync = ${CNSGW_PG_FSYNC:-off}
synchronous_commit = ${CNSGW_PG_SYNCHRONOUS_COMMIT:-on}
full_page_writes = off
EOF
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start >/dev/null
    url_for postgres | tee "$dir/url"
    ;;
  start) as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start >/dev/null ;;
  stop) as_owner "$bin/pg_ctl" -D "$dir/data" -m "${3:-fast}" -w -t 30 stop >/dev/null ;;
  createdb)
    name=${3:?a database name}
    PGPASSWORD=$(cat "$dir/password") psql -q -h 127.0.0.1 -p "$(cat "$dir/port")" -U cnsgw -d postgres -c "CREATE DATABASE \"$name\"" >/dev/null
    url_for "$name"
    ;;
  destroy)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "unknown command $command" >&2; exit 2 ;;
esac
