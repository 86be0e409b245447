#!/usr/bin/env bash
# Scale-out benchmark (issue 12), in one run on this machine, release builds, 32 concurrent clients from
# `cnsgw-oidc-load` doing full OIDC logins (SPID client: request object, card handshake on a new TLS connection,
# consent, code) for SECONDS, then the token exchange of every code:
#   1. one instance on SQLite (the embedded default)                 — the baseline
#   2. one instance on PostgreSQL (a local server from Debian's packages, fsync on, synchronous_commit off —
#      the durability of SQLite's WAL mode in the gateway, which syncs at checkpoints, not at each commit)
#   3. one instance on PostgreSQL behind nginx (docker/nginx-balancer.conf with one upstream)
#   4. two instances on PostgreSQL behind nginx (docker/nginx-balancer.conf as it is)
# For each: logins/s, token exchanges/s, p50/p99, and CPU per login of the gateway process(es) and of the database
# server; then the ratios PostgreSQL/SQLite (aim: gateway CPU per login at most 1.5×) and two/one instance.
# With LOGINS=N in the environment, run 4 is N logins (however long) instead, with the instances' resident memory
# before and after (the 10,000-login check: LOGINS=10000 bench/scale-out.sh).
# Usage: bench/scale-out.sh [SECONDS]
set -euo pipefail
export CNSGW_LIMITS_REQUESTS_PER_SECOND=0 CNSGW_LIMITS_MAX_CONNECTIONS_PER_ADDRESS=1000000 CNSGW_OIDC_CODE_LIFETIME=900 CNSGW_DEMO=false
cd "$(dirname "$0")/.."
seconds=${1:-15}
swift build -c release --product cnsgw >/dev/null
swift build -c release --product cnsgw-oidc-load >/dev/null
bin="$(swift build -c release --show-bin-path)"
work=$(mktemp -d /tmp/cnsgw-scale-XXXXXX)
chmod 755 "$work"
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  [ -f "$work/nginx/nginx.pid" ] && kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true
  scripts/postgres-cluster.sh destroy "$work/pg" >/dev/null 2>&1 || true
}
trap cleanup EXIT

CNSGW_PG_FSYNC=on CNSGW_PG_SYNCHRONOUS_COMMIT=off scripts/postgres-cluster.sh init "$work/pg" 55499 >/dev/null
pm=$(head -1 "$work/pg/data/postmaster.pid")
kek=$(openssl rand -base64 32)
"$bin/cnsgw" testpki init "$work/pki" --crl-url "file://$work/pki/crl.der" >/dev/null
"$bin/cnsgw" testpki card "$work/pki" --cf RCCMNL83S18D969H --given-name Mario --surname Rossi >/dev/null
"$bin/cnsgw-oidc-load" keys "$work"
card="$work/pki/cards/rccmnl83s18d969h"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=login.example.it \
  -keyout "$work/proxy.key" -out "$work/proxy.pem" 2>/dev/null

# cpu PID...: seconds of CPU used so far by these processes (and, for the postmaster, its children).
cpu() { python3 - "$@" <<'PY'
import os, sys
tick = os.sysconf("SC_CLK_TCK")
pids = set(sys.argv[1:])
for pid in list(pids):
    try: pids.update(open(f"/proc/{pid}/task/{pid}/children").read().split())
    except OSError: pass
total = 0.0
for pid in pids:
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / tick
    except OSError: pass
print(f"{total:.3f}")
PY
}
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# start NAME STORAGE_URL PUBLIC_PORT [PUBLIC_URL CARD_URL]: one instance in $work/NAME; prints its PID.
start() {
  local name=$1 url=$2 port=$3 data="$work/$1"
  local extra=()
  [ -n "${4:-}" ] && extra=(env "CNSGW_PUBLIC_URL=$4" "CNSGW_CARD_URL=$5" CNSGW_CARD_TRUSTED_PROXIES=127.0.0.2 CNSGW_CARD_PROXY_CERTIFICATE_HEADER=nginx)
  "${extra[@]}" env "CNSGW_STORAGE_URL=$url" "CNSGW_KEYS_ENCRYPTION_KEY=$kek" "$bin/cnsgw" serve --data-dir "$data" --public-port "$port" \
    --card-port $((port + 1)) >"$work/serve-$name.log" 2>&1 &
  echo $!
  for _ in $(seq 150); do curl -sk "https://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return; sleep 0.2; done
  echo "instance $name did not start: $(tail -5 "$work/serve-$name.log")" >&2
  exit 1
}

# setup URL: trusts the test CA and registers the load client in the database at URL ("" = SQLite in $work/admin-…).
setup() {
  local data="$work/admin-$RANDOM"
  env "CNSGW_STORAGE_URL=$1" "CNSGW_KEYS_ENCRYPTION_KEY=$kek" "$bin/cnsgw" ca add "$work/pki/ca.pem" --revocation crl-only --crl "$work/pki/crl.der" \
    --data-dir "${2:-$data}" >/dev/null
  env "CNSGW_STORAGE_URL=$1" "CNSGW_KEYS_ENCRYPTION_KEY=$kek" "$bin/cnsgw" client add --id https://bench.example.it \
    --redirect-uri https://bench.example.it/cb --jwks "$work/client.jwks" --data-dir "${2:-$data}" >/dev/null
}

# balancer PUBLIC_PORT CARD_PORT INSTANCE_PUBLIC_PORT...: nginx with docker/nginx-balancer.conf over the instances.
balancer() {
  local lbp=$1 lbc=$2
  shift 2
  mkdir -p "$work/nginx/logs"
  python3 - "$work" "$lbp" "$lbc" "$@" <<'PY'
import sys
work, lbp, lbc, ports = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
site = open("docker/nginx-balancer.conf").read()
def servers(offset):
    return "\n".join(f"    server 127.0.0.1:{int(p) + offset} max_fails=3 fail_timeout=5s;" for p in ports)
for name, offset in (("cnsgw_public", 0), ("cnsgw_card", 1)):
    start = site.index("upstream " + name + " {")
    body = site.index("\n", start) + 1
    end = site.index("    keepalive", body)
    site = site[:body] + servers(offset) + "\n" + site[end:]
site = site.replace("proxy_bind 172.28.0.10;", "proxy_bind 127.0.0.2;")
site = site.replace("/etc/nginx/tls/login.pem", work + "/proxy.pem").replace("/etc/nginx/tls/login.key", work + "/proxy.key")
site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{lbp} ssl;", 1).replace("listen 443 ssl;", f"listen 127.0.0.1:{lbc} ssl;", 1)
n = work + "/nginx"
open(n + "/nginx.conf", "w").write(f"""pid {n}/nginx.pid; error_log {n}/logs/error.log; worker_processes 1;
events {{ worker_connections 4096; }}
http {{ access_log off; client_body_temp_path {n}/body; proxy_temp_path {n}/proxy; fastcgi_temp_path {n}/fastcgi;
uwsgi_temp_path {n}/uwsgi; scgi_temp_path {n}/scgi;
{site}
}}
""")
PY
  [ -f "$work/nginx/nginx.pid" ] && kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null && sleep 0.5
  nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/logs/error.log"
  sleep 0.5
}

# measure NAME ISSUER PIDS: the load against ISSUER; figures with the CPU of PIDS and of the database server.
measure() {
  local name=$1 issuer=$2 pids=$3 gw0 db0 gw1 db1 t0 t1
  gw0=$(cpu ${pids//,/ }) db0=$(cpu "$pm") t0=$(date +%s.%N)
  "$bin/cnsgw-oidc-load" run "$issuer" https://bench.example.it https://bench.example.it/cb "$work" "$card.pem" "$card.key" "$seconds" 32 "$pids" \
    >"$work/$name.json" 2>"$work/$name.err"
  gw1=$(cpu ${pids//,/ }) db1=$(cpu "$pm") t1=$(date +%s.%N)
  python3 - "$name" "$work/$name.json" "$gw0" "$gw1" "$db0" "$db1" "$t0" "$t1" <<'PY'
import json, sys
name, r = sys.argv[1], json.load(open(sys.argv[2]))
gw, db = float(sys.argv[4]) - float(sys.argv[3]), float(sys.argv[6]) - float(sys.argv[5])
n = max(1, r["logins"]["ok"])
l, t = r["logins"], r["token"]
# CPU per login counts the login and its token exchange (the load's whole run), over the logins that succeeded.
out = {"name": name, "logins_per_s": l["rate"], "p50_ms": l["p50_ms"], "p99_ms": l["p99_ms"], "ok": l["ok"], "failed": l["failed"] + t["failed"],
       "tokens_per_s": t["rate"], "gateway_cpu_ms_per_login": round(gw / n * 1000, 2), "database_cpu_ms_per_login": round(db / n * 1000, 2)}
print(f"[{name}] logins {l['rate']}/s (p50 {l['p50_ms']} ms, p99 {l['p99_ms']} ms, ok {l['ok']}, failed {l['failed']}); tokens {t['rate']}/s "
      f"(failed {t['failed']}); CPU per login + exchange: gateway {out['gateway_cpu_ms_per_login']} ms, database {out['database_cpu_ms_per_login']} ms")
json.dump(out, open(sys.argv[2] + ".summary", "w"))
PY
}

stop() { for pid in ${1//,/ }; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; }

# 1. SQLite
setup "" "$work/sqlite"
p=$(start sqlite "" 19801)
measure sqlite "https://127.0.0.1:19801" "$p"
stop "$p"
# 2. PostgreSQL, one instance
url=$(scripts/postgres-cluster.sh createdb "$work/pg" bench1)
setup "$url"
p=$(start pg1 "$url" 19811)
measure postgres "https://127.0.0.1:19811" "$p"
stop "$p"
# 3 and 4: behind nginx, one then two instances on one database
url=$(scripts/postgres-cluster.sh createdb "$work/pg" bench2)
setup "$url"
lb="https://127.0.0.1:19900" lbcard="https://127.0.0.1:19901"
a=$(start a "$url" 19821 "$lb" "$lbcard")
balancer 19900 19901 19821
measure postgres-nginx-1 "$lb" "$a"
b=$(start b "$url" 19831 "$lb" "$lbcard")
balancer 19900 19901 19821 19831
if [ -n "${LOGINS:-}" ]; then
  before="$(rss "$a") $(rss "$b")"
  # Resident memory every 15 s during the run: growth that stops after warm-up is flat, growth that goes on is a leak.
  (while sleep 15; do echo "$(date +%s) $(rss "$a") $(rss "$b")"; done >"$work/rss.log") &
  sampler=$!
  CNSGW_LOAD_LOGINS=$LOGINS measure postgres-nginx-2 "$lb" "$a,$b"
  kill "$sampler" 2>/dev/null || true
  echo "[postgres-nginx-2] $LOGINS logins: resident memory (kB) of the two instances before: $before; after: $(rss "$a") $(rss "$b")"
  echo "[postgres-nginx-2] samples every 15 s (kB, instance A, instance B): $(awk '{printf "%s/%s ", $2, $3}' "$work/rss.log")"
else
  measure postgres-nginx-2 "$lb" "$a,$b"
fi
env "CNSGW_STORAGE_URL=$url" "CNSGW_KEYS_ENCRYPTION_KEY=$kek" "$bin/cnsgw" audit verify --data-dir "$work/admin-verify"
stop "$a,$b"

python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
s = {n: json.load(open(f"{w}/{n}.json.summary")) for n in ("sqlite", "postgres", "postgres-nginx-1", "postgres-nginx-2")}
q, p = s["sqlite"], s["postgres"]
print(f"PostgreSQL/SQLite, one instance: gateway CPU per login {p['gateway_cpu_ms_per_login'] / q['gateway_cpu_ms_per_login']:.2f} (aim ≤ 1.5); "
      f"gateway + database CPU per login {(p['gateway_cpu_ms_per_login'] + p['database_cpu_ms_per_login']) / q['gateway_cpu_ms_per_login']:.2f}; "
      f"logins/s {p['logins_per_s'] / q['logins_per_s']:.2f}")
one, two = s["postgres-nginx-1"], s["postgres-nginx-2"]
print(f"two instances/one behind nginx: logins/s {two['logins_per_s'] / one['logins_per_s']:.2f}; "
      f"gateway CPU per login {two['gateway_cpu_ms_per_login'] / one['gateway_cpu_ms_per_login']:.2f} (2 cores shared by load, nginx, database and gateways)")
PY
