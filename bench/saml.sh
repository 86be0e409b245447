#!/usr/bin/env bash
# SAML benchmark (issue 4), in one run on this machine, pinned to one core:
#  - Responses built and signed per second (one signed assertion, four attributes), against
#    `openssl speed rsa2048` signing on the same core (the floor: one RSA-2048 signature per Response).
#  - full logins per second through `cnsgw serve` (signed SPID AuthnRequest over HTTP-Redirect, card handshake on a
#    fresh TLS connection, consent, signed Response) at 32 concurrent clients, p50/p99 latency. The Python client
#    runs on the same machine and takes part of its CPU.
# Usage: bench/saml.sh [SECONDS]
set -euo pipefail
# The load comes from one address: the per-address limits protect against floods, not against this benchmark.
export CNSGW_LIMITS_REQUESTS_PER_SECOND=0 CNSGW_LIMITS_MAX_CONNECTIONS_PER_ADDRESS=1000000
cd "$(dirname "$0")/.."
seconds=${1:-10}
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
"$cnsgw" serve --data-dir "$work/data" --public-port 19643 --card-port 19644 >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 100); do curl -sk https://127.0.0.1:19643/healthz >/dev/null 2>&1 && break; sleep 0.2; done
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/sp.key" -out "$work/sp.crt" -days 2 -subj "/CN=bench SP" 2>/dev/null
python3 Tests/SAML/sp_client.py metadata --lib pysaml2 --entity-id https://bench.example.it/sp --acs https://127.0.0.1:9/acs \
  --key "$work/sp.key" --cert "$work/sp.crt" --spid >"$work/sp.xml"
"$cnsgw" sp add "$work/sp.xml" --data-dir "$work/data" >/dev/null
sleep 1.5
card="$work/data/demo-pki/cards/rccmnl83s18d969h"
server_cpu() { awk '{print $14 + $15}' "/proc/$serve_pid/stat"; }
before=$(server_cpu)
client_start=$(date +%s.%N)
result=$(/usr/bin/time -f "%U %S" -o "$work/client.time" python3 bench/saml_logins.py https://127.0.0.1:19643 "$card.pem" "$card.key" "$work/sp.key" https://bench.example.it/sp "$seconds" 32)
python3 - "$result" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
print(f"full SAML logins at 32 clients: {r['rate']}/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, ok {r['ok']}, failed {r['failed']}")
PY
after=$(server_cpu)
ticks=$(getconf CLK_TCK)
python3 - "$before" "$after" "$ticks" "$(cat "$work/client.time")" "$client_start" "$(date +%s.%N)" <<'PY'
import sys
before, after, ticks = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
user, system = map(float, sys.argv[4].split())
wall = float(sys.argv[6]) - float(sys.argv[5])
server = (after - before) / ticks
print(f"CPU over {wall:.1f} s: cnsgw serve {server:.1f} s, the Python client {user + system:.1f} s")
PY
echo "(the gateway's CPU per full login is its CPU time divided by the logins above; the client is the bottleneck when it uses more)"
