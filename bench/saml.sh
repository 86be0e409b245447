#!/usr/bin/env bash
# SAML benchmark (issue 4), in one run on this machine, pinned to one core:
#  - Responses built and signed per second (one signed assertion, four attributes), against
#    `openssl speed rsa2048` signing on the same core (the floor: one RSA-2048 signature per Response).
#  - full logins per second through `cnsgw serve` (signed SPID AuthnRequest over HTTP-Redirect, card handshake on a
#    fresh TLS connection, consent, signed Response) at 32 concurrent clients, p50/p99 latency. The Python client
#    runs on the same machine and takes part of its CPU.
#  - with a BASELINE git ref, the same logins through that version's `cnsgw serve` (built in bench/out/baseline-REF, a
#    git worktree) right after, and the ratios this/baseline.
# Usage: bench/saml.sh [SECONDS] [BASELINE_REF]
set -euo pipefail
# The load comes from one address: the per-address limits protect against floods, not against this benchmark.
export CNSGW_LIMITS_REQUESTS_PER_SECOND=0 CNSGW_LIMITS_MAX_CONNECTIONS_PER_ADDRESS=1000000
cd "$(dirname "$0")/.."
seconds=${1:-10}
baseline=${2:-}
swift build -c release --product cnsgw-bench >/dev/null
swift build -c release --product cnsgw >/dev/null
cnsgw="$(swift build -c release --show-bin-path)/cnsgw"
bench="$(swift build -c release --show-bin-path)/cnsgw-bench"
# Three alternating rounds (the machine is shared and noisy); the median of the per-round ratios is reported.
rounds=""
for round in 1 2 3; do
  gw=$(taskset -c 1 "$bench" saml-responses /tmp | sed -E 's/.*: ([0-9.]+) signed.*/\1/')
  rsa=$(taskset -c 1 openssl speed -seconds 3 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6}')
  echo "round $round: cnsgw $gw signed Responses/s, openssl speed rsa2048 $rsa signatures/s"
  rounds="$rounds $gw:$rsa"
done
python3 - $rounds <<'PY'
import statistics, sys
pairs = [tuple(map(float, a.split(":"))) for a in sys.argv[1:]]
ratios = sorted(g / r for g, r in pairs)
print(f"ratio cnsgw signed Responses / RSA-2048 signatures: median {statistics.median(ratios):.2f} (rounds {', '.join(f'{x:.2f}' for x in ratios)})")
PY

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/sp.key" -out "$work/sp.crt" -days 2 -subj "/CN=bench SP" 2>/dev/null
python3 Tests/SAML/sp_client.py metadata --lib pysaml2 --entity-id https://bench.example.it/sp --acs https://127.0.0.1:9/acs \
  --key "$work/sp.key" --cert "$work/sp.crt" --spid >"$work/sp.xml"

# measure NAME BINARY PORT: full SAML logins through one gateway; prints the figures and leaves the JSON in $work/NAME.json.
measure() {
  local name=$1 bin=$2 port=$3 data="$work/data-$1"
  "$bin" serve --data-dir "$data" --public-port "$port" --card-port $((port + 1)) >"$work/serve-$name.log" 2>&1 &
  local serve_pid=$!
  for _ in $(seq 100); do curl -sk "https://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
  "$bin" sp add "$work/sp.xml" --data-dir "$data" >/dev/null
  sleep 1.5
  local card="$data/demo-pki/cards/rccmnl83s18d969h" before after start
  before=$(awk '{print $14 + $15}' "/proc/$serve_pid/stat")
  start=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$work/client-$name.time" python3 bench/saml_logins.py "https://127.0.0.1:$port" "$card.pem" "$card.key" "$work/sp.key" \
    https://bench.example.it/sp "$seconds" 32 >"$work/$name.json"
  after=$(awk '{print $14 + $15}' "/proc/$serve_pid/stat")
  python3 - "$name" "$(cat "$work/$name.json")" "$before" "$after" "$(getconf CLK_TCK)" "$(cat "$work/client-$name.time")" "$start" "$(date +%s.%N)" <<'PY'
import json, sys
name, r = sys.argv[1], json.loads(sys.argv[2])
server = (float(sys.argv[4]) - float(sys.argv[3])) / float(sys.argv[5])
user, system = map(float, sys.argv[6].split())
print(f"[{name}] full SAML logins at 32 clients: {r['rate']}/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, ok {r['ok']}, failed {r['failed']}; "
      f"gateway CPU {1e6 * server / max(1, r['ok']):.0f} µs per login")
print(f"[{name}] CPU over {float(sys.argv[8]) - float(sys.argv[7]):.1f} s: cnsgw serve {server:.1f} s, the Python client {user + system:.1f} s")
PY
  printf '%s %s\n' "$before" "$after" >"$work/$name.cpu"
  kill "$serve_pid" 2>/dev/null || true
  wait "$serve_pid" 2>/dev/null || true
}

measure current "$cnsgw" 19643
if [ -n "$baseline" ]; then
  base_src="bench/out/baseline-$baseline"
  [ -d "$base_src" ] || git worktree add --detach "$base_src" "$baseline" >/dev/null
  (cd "$base_src" && swift build -c release --product cnsgw >/dev/null)
  measure baseline "$(cd "$base_src" && swift build -c release --show-bin-path)/cnsgw" 19653
  python3 - "$work" "$(getconf CLK_TCK)" "$baseline" <<'PY'
import json, sys
work, ticks, ref = sys.argv[1], float(sys.argv[2]), sys.argv[3]
def load(name):
    r = json.load(open(f"{work}/{name}.json"))
    before, after = map(float, open(f"{work}/{name}.cpu").read().split())
    return r, (after - before) / ticks / max(1, r["ok"])
(c, c_cpu), (b, b_cpu) = load("current"), load("baseline")
print(f"full SAML logins: rate this/{ref} {c['rate'] / max(1e-9, b['rate']):.2f}, gateway CPU per login this/{ref} {c_cpu / max(1e-12, b_cpu):.2f} (below 1 is cheaper)")
PY
fi
echo "(the Python client is usually the bottleneck at 32 clients: compare the gateway's CPU per login)"
