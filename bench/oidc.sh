#!/usr/bin/env bash
# OIDC benchmark (issues 5 and 11), in one run on this machine:
#  - the baseline: raw RSA-2048 signatures per second (`openssl speed rsa2048`, one core) and RS256 JWTs per second
#    with swift-crypto (`cnsgw-bench jwt-sign`, one core) — a token exchange signs two JWTs (access + ID token);
#  - through `cnsgw serve` with a SPID-profile client, 32 concurrent clients: full OIDC logins (request object,
#    card handshake on a fresh TLS connection, consent, code), token exchanges (code + PKCE + private_key_jwt) and
#    userinfo requests (signed and encrypted JWT), each with p50/p99 latency and the gateway's CPU time per operation.
#    The load comes from `cnsgw-oidc-load` (Swift, AsyncHTTPClient) on the same machine; the CPU split is printed.
#  - with a BASELINE git ref, the same load against that version's `cnsgw serve` (built in bench/out/baseline-REF, a
#    git worktree), measured after this one in the same run, and the ratios this/baseline.
# Usage: bench/oidc.sh [SECONDS] [BASELINE_REF]
set -euo pipefail
# The load comes from one address: the per-address limits protect against floods, not against this benchmark.
export CNSGW_LIMITS_REQUESTS_PER_SECOND=0 CNSGW_LIMITS_MAX_CONNECTIONS_PER_ADDRESS=1000000
cd "$(dirname "$0")/.."
seconds=${1:-10}
baseline=${2:-}
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

# measure NAME BINARY PORT: one gateway under the load; prints its figures and leaves its JSON in $work/NAME.json.
measure() {
  local name=$1 bin=$2 port=$3 data="$work/data-$1"
  "$bin" serve --data-dir "$data" --public-port "$port" --card-port $((port + 1)) >"$work/serve-$name.log" 2>&1 &
  local serve_pid=$!
  for _ in $(seq 100); do curl -sk "https://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
  [ -f "$work/client.jwks" ] || "$load" keys "$work"
  "$bin" client add --id https://bench.example.it --redirect-uri https://bench.example.it/cb --jwks "$work/client.jwks" --data-dir "$data" >/dev/null
  sleep 1.5
  local card="$data/demo-pki/cards/rccmnl83s18d969h" start
  start=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$work/client-$name.time" "$load" run "https://127.0.0.1:$port" https://bench.example.it \
    https://bench.example.it/cb "$work" "$card.pem" "$card.key" "$seconds" 32 "$serve_pid" >"$work/$name.json"
  python3 - "$name" "$(cat "$work/$name.json")" "$jwt" "$(cat "$work/client-$name.time")" "$start" "$(date +%s.%N)" <<'PY'
import json, re, sys
name, r = sys.argv[1], json.loads(sys.argv[2])
jwt = float(re.search(r"RS256 JWTs (\d+)/s", sys.argv[3]).group(1))
for key, label in (("logins", "full OIDC logins"), ("token", "token exchanges (code + PKCE + private_key_jwt)"), ("userinfo", "userinfo (signed + encrypted JWT)")):
    p = r[key]
    print(f"[{name}] {label} at 32 clients: {p['rate']}/s, p50 {p['p50_ms']} ms, p99 {p['p99_ms']} ms, ok {p['ok']}, failed {p['failed']}; "
          f"gateway CPU {p['server_cpu_us']} µs each (capacity {1e6 / max(1, p['server_cpu_us']):.0f}/s per core)")
t, u = 1e6 / max(1, r["token"]["server_cpu_us"]), 1e6 / max(1, r["userinfo"]["server_cpu_us"])
print(f"[{name}] ratio, per core: token exchanges {t:.0f}/s vs RS256 pairs (two JWTs each) {jwt / 2:.0f}/s = {t / (jwt / 2):.2f}; "
      f"userinfo {u:.0f}/s vs RS256 JWTs {jwt:.0f}/s = {u / jwt:.2f}")
user, system = map(float, sys.argv[4].split())
print(f"[{name}] load generator CPU {user + system:.1f} s over {float(sys.argv[6]) - float(sys.argv[5]):.1f} s")
PY
  kill "$serve_pid" 2>/dev/null || true
  wait "$serve_pid" 2>/dev/null || true
}

measure current "$cnsgw" 19743
if [ -n "$baseline" ]; then
  base_src="bench/out/baseline-$baseline"
  [ -d "$base_src" ] || git worktree add --detach "$base_src" "$baseline" >/dev/null
  (cd "$base_src" && swift build -c release --product cnsgw >/dev/null)
  measure baseline "$(cd "$base_src" && swift build -c release --show-bin-path)/cnsgw" 19753
  python3 - "$(cat "$work/current.json")" "$(cat "$work/baseline.json")" "$baseline" <<'PY'
import json, sys
c, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for key in ("logins", "token", "userinfo"):
    print(f"{key}: rate this/{sys.argv[3]} {c[key]['rate'] / max(1e-9, b[key]['rate']):.2f}, "
          f"gateway CPU per operation this/{sys.argv[3]} {c[key]['server_cpu_us'] / max(1, b[key]['server_cpu_us']):.2f} (below 1 is cheaper)")
PY
fi
