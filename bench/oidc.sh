#!/usr/bin/env bash
# OIDC benchmark (issue 5), in one run on this machine:
#  - the baseline: raw RSA-2048 signatures per second (`openssl speed rsa2048`, one core) and RS256 JWTs per second
#    with swift-crypto (`cnsgw-bench jwt-sign`, one core) — a token exchange signs two JWTs (access + ID token);
#  - through `cnsgw serve` with a SPID-profile client, 32 concurrent clients: full OIDC logins (request object,
#    card handshake on a fresh TLS connection, consent, code), token exchanges (code + PKCE + private_key_jwt) and
#    userinfo requests (signed and encrypted JWT), each with p50/p99 latency and the gateway's CPU time per operation.
#    The load comes from `cnsgw-oidc-load` (Swift, AsyncHTTPClient) on the same machine; the CPU split is printed.
# Usage: bench/oidc.sh [SECONDS]
set -euo pipefail
# The load comes from one address: the per-address limits protect against floods, not against this benchmark.
export CNSGW_LIMITS_REQUESTS_PER_SECOND=0 CNSGW_LIMITS_MAX_CONNECTIONS_PER_ADDRESS=1000000
cd "$(dirname "$0")/.."
seconds=${1:-10}
swift build -c release --product cnsgw-bench >/dev/null
swift build -c release --product cnsgw >/dev/null
swift build -c release --product cnsgw-oidc-load >/dev/null
load="$(swift build -c release --show-bin-path)/cnsgw-oidc-load"
cnsgw="$(swift build -c release --show-bin-path)/cnsgw"
bench="$(swift build -c release --show-bin-path)/cnsgw-bench"
rsa=$(taskset -c 1 openssl speed -seconds 3 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6}')
jwt=$(taskset -c 1 "$bench" jwt-sign /tmp | tail -1)
echo "baseline: openssl speed rsa2048 $rsa signatures/s; $jwt"

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
"$cnsgw" serve --data-dir "$work/data" --public-port 19743 --card-port 19744 >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 100); do curl -sk https://127.0.0.1:19743/healthz >/dev/null 2>&1 && break; sleep 0.2; done
"$load" keys "$work"
"$cnsgw" client add --id https://bench.example.it --redirect-uri https://bench.example.it/cb --jwks "$work/client.jwks" --data-dir "$work/data" >/dev/null
sleep 1.5
card="$work/data/demo-pki/cards/rccmnl83s18d969h"
server_cpu() { awk '{print $14 + $15}' "/proc/$serve_pid/stat"; }
before=$(server_cpu)
client_start=$(date +%s.%N)
result=$(/usr/bin/time -f "%U %S" -o "$work/client.time" "$load" run https://127.0.0.1:19743 https://bench.example.it \
  https://bench.example.it/cb "$work" "$card.pem" "$card.key" "$seconds" 32 "$serve_pid")
after=$(server_cpu)
python3 - "$result" "$rsa" "$jwt" <<'PY'
import json, re, sys
r, rsa = json.loads(sys.argv[1]), float(sys.argv[2])
jwt = float(re.search(r"RS256 JWTs (\d+)/s", sys.argv[3]).group(1))
for name, label in (("logins", "full OIDC logins"), ("token", "token exchanges (code + PKCE + private_key_jwt)"), ("userinfo", "userinfo (signed + encrypted JWT)")):
    p = r[name]
    print(f"{label} at 32 clients: {p['rate']}/s, p50 {p['p50_ms']} ms, p99 {p['p99_ms']} ms, ok {p['ok']}, failed {p['failed']}; "
          f"gateway CPU {p['server_cpu_us']} µs each (capacity {1e6 / max(1, p['server_cpu_us']):.0f}/s per core)")
t, u = 1e6 / max(1, r["token"]["server_cpu_us"]), 1e6 / max(1, r["userinfo"]["server_cpu_us"])
print(f"ratio, per core: token exchanges {t:.0f}/s vs RS256 pairs (two JWTs each) {jwt / 2:.0f}/s = {t / (jwt / 2):.2f}; "
      f"userinfo {u:.0f}/s vs RS256 JWTs {jwt:.0f}/s = {u / jwt:.2f}; measured throughput at 32 clients: "
      f"token {r['token']['rate'] / (jwt / 2):.2f}, userinfo {r['userinfo']['rate'] / jwt:.2f} of the same baselines")
PY
ticks=$(getconf CLK_TCK)
python3 - "$before" "$after" "$ticks" "$(cat "$work/client.time")" "$client_start" "$(date +%s.%N)" <<'PY'
import sys
before, after, ticks = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
user, system = map(float, sys.argv[4].split())
wall = float(sys.argv[6]) - float(sys.argv[5])
print(f"CPU over {wall:.1f} s: cnsgw serve {(after - before) / ticks:.1f} s, the load generator {user + system:.1f} s")
PY
