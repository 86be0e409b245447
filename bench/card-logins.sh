#!/usr/bin/env bash
# Card-login benchmark (issue 3), in one run on this machine:
#  - card logins per second through `cnsgw serve` (fresh TLS handshake with a client certificate, CNS decision with
#    a warm CRL, page served) with 1 and 32 concurrent clients, p50/p99 latency;
#  - the same client against nginx with `ssl_verify_client on`, the same certificates and protocol versions (TLS 1.2 and
#    1.3, so both end up on 1.3), doing the handshake alone (ratio: the aim is at least 0.7 of nginx's rate);
#  - peak memory of `cnsgw serve` with a 2,000,000-entry CRL loaded.
#  - the same with the parsed-certificate cache off (each login parses the card, as a card's first login does);
#  - with a BASELINE git ref, the same card logins through that version's `cnsgw serve`, built in
#    bench/out/baseline-REF (a git worktree), in the same run: the ratio after/before says what a change cost.
#  - the card step of a real login (issue 14): pending logins are started beforehand through the SAML front end
#    (signed SPID AuthnRequests, bench/pending_logins.py), then each one's first card-listener request is measured on a
#    new TLS connection with the card — decision with a warm 3,000,000-entry CRL, the pending login updated, audit
#    record, consent page — at 1 and 8 clients, against nginx's bare client-certificate handshake (no CRL), after a
#    warm-up, in five rounds (each starts its pending logins first, then measures the targets back to back, in
#    alternating order); p50/p99, and the server CPU per request of each (utime+stime from /proc). With BASELINE_REF,
#    that version's card step too, in the same rounds ("baseline card step"), and the ratio this version / baseline.
#    Before and after the rounds, the host's pace (`cnsgw-bench rsa-sign`), which tells a run on a busy host.
# Usage: bench/card-logins.sh [SECONDS] [BASELINE_REF]   (needs nginx: apt-get install nginx-light)
#        CARD_BENCH=pending bench/card-logins.sh [SECONDS] [BASELINE_REF]   runs the card-step part only
set -euo pipefail
# The load comes from one address: the per-address limits protect against floods, not against this benchmark.
export CNSGW_LIMITS_REQUESTS_PER_SECOND=0 CNSGW_LIMITS_MAX_CONNECTIONS_PER_ADDRESS=1000000
cd "$(dirname "$0")/.."
seconds=${1:-10}
baseline=${2:-}
command -v nginx >/dev/null || { echo "nginx is needed: apt-get install nginx-light" >&2; exit 2; }
swift build -c release --product cnsgw >/dev/null
cnsgw="$(swift build -c release --show-bin-path)/cnsgw"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true' EXIT
"$cnsgw" serve --data-dir "$work/data" --public-port 19443 --card-port 19444 >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 100); do curl -sk https://127.0.0.1:19443/healthz >/dev/null 2>&1 && break; sleep 0.2; done
card="$work/data/demo-pki/cards/rccmnl83s18d969h"
# The same gateway without its parsed-certificate cache: every login parses the card's certificate, as the first
# login of each card does (a figure for many distinct cards).
CNSGW_CARD_CERTIFICATE_CACHE=0 "$cnsgw" serve --data-dir "$work/data-cold" --public-port 19446 --card-port 19447 >"$work/serve-cold.log" 2>&1 &
for _ in $(seq 100); do curl -sk https://127.0.0.1:19446/healthz >/dev/null 2>&1 && break; sleep 0.2; done
cold_card="$work/data-cold/demo-pki/cards/rccmnl83s18d969h"
base_card=""
if [ -n "$baseline" ]; then
  base_src="bench/out/baseline-$baseline"
  [ -d "$base_src" ] || git worktree add --detach "$base_src" "$baseline" >/dev/null
  (cd "$base_src" && swift build -c release --product cnsgw >/dev/null)
  base_bin="$(cd "$base_src" && swift build -c release --show-bin-path)/cnsgw"
  # Without this version's settings, which an older one would refuse as unknown.
  env -u CNSGW_LIMITS_REQUESTS_PER_SECOND -u CNSGW_LIMITS_MAX_CONNECTIONS_PER_ADDRESS "$base_bin" serve --data-dir "$work/data-base" --public-port 19448 --card-port 19449 >"$work/serve-base.log" 2>&1 &
  for _ in $(seq 100); do curl -sk https://127.0.0.1:19448/healthz >/dev/null 2>&1 && break; sleep 0.2; done
  base_card="$work/data-base/demo-pki/cards/rccmnl83s18d969h"
fi

cat >"$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/tmp; proxy_temp_path $work/tmp; fastcgi_temp_path $work/tmp; uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;
    server {
        listen 127.0.0.1:19445 ssl;
        ssl_certificate $work/data/server.pem;
        ssl_certificate_key $work/data/server.key;
        ssl_client_certificate $work/data/demo-pki/ca.pem;
        ssl_verify_client on;
        # The gateway's card listener offers TLS 1.2 and 1.3 (clients pick 1.3); nginx 1.22 offers only up to 1.2 unless
        # told, and the comparison would be between two protocols.
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache off;
        ssl_session_tickets off;
        location / { return 200 "ok"; }
    }
}
CONF
mkdir -p "$work/tmp"
nginx -c "$work/nginx.conf" -p "$work" 2>/dev/null

# trust_demo_ca_with_crl DATA_DIR ENTRIES FILE [BIN]: the gateway of DATA_DIR (run by BIN, this version's by default)
# trusts its demo CA through a synthetic CRL of ENTRIES serials (the demo cards not among them), written to FILE.
trust_demo_ca_with_crl() {
  local bin=${4:-$cnsgw} id
  "$cnsgw" testpki big-crl "$1/demo-pki" --entries "$2" --out "$3" >/dev/null
  id=$("$bin" ca list --data-dir "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
  "$bin" ca remove "$id" --data-dir "$1" >/dev/null
  "$bin" ca add "$1/demo-pki/ca.pem" --revocation crl-only --crl "$3" --data-dir "$1" >/dev/null
}
run() { python3 bench/card_logins.py 127.0.0.1 "$1" "${4:-$card}.pem" "${4:-$card}.key" "$2" "$seconds" "$3"; }
if [ "${CARD_BENCH:-all}" != pending ]; then
printf '%-12s %-8s %10s %10s %10s\n' target clients "logins/s" "p50 ms" "p99 ms"
for c in 1 32; do
  gw=$(run 19444 /login/card "$c"); ng=$(run 19445 / "$c"); cold=$(run 19447 /login/card "$c" "$cold_card")
  base='{}'; [ -n "$base_card" ] && base=$(run 19449 /login/card "$c" "$base_card")
  python3 - "$c" "$gw" "$ng" "$cold" "$base" "$baseline" <<'PY'
import json, sys
c, gw, ng, cold, base = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4]), json.loads(sys.argv[5])
if base:
    print(f"{'baseline':<12} {c:<8} {base['rate']:>10} {base['p50_ms']:>10} {base['p99_ms']:>10}   failed {base['failed']}  ({sys.argv[6]})")
    print(f"ratio cnsgw/baseline at {c} clients: {gw['rate'] / base['rate']:.2f}")
print(f"{'cnsgw':<12} {c:<8} {gw['rate']:>10} {gw['p50_ms']:>10} {gw['p99_ms']:>10}   failed {gw['failed']}")
print(f"{'cnsgw cold':<12} {c:<8} {cold['rate']:>10} {cold['p50_ms']:>10} {cold['p99_ms']:>10}   failed {cold['failed']}  (no certificate cache)")
print(f"{'nginx':<12} {c:<8} {ng['rate']:>10} {ng['p50_ms']:>10} {ng['p99_ms']:>10}   failed {ng['failed']}")
print(f"ratio cnsgw/nginx at {c} clients: {gw['rate'] / ng['rate']:.2f} (cold {cold['rate'] / ng['rate']:.2f})")
PY
done

# Peak memory with a 2,000,000-entry CRL: trust the demo CA through that CRL, log in once, read VmHWM.
trust_demo_ca_with_crl "$work/data" 2000000 "$work/big.der"
sleep 1.5   # a running gateway reads the trusted CAs again within a second
before=$(grep VmHWM /proc/$serve_pid/status | awk '{print $2}')
curl -sk --cert "$card.pem" --key "$card.key" https://127.0.0.1:19444/login/card -o /dev/null -w "login with the 2M CRL: %{http_code} in %{time_total}s\n"
after=$(grep VmHWM /proc/$serve_pid/status | awk '{print $2}')
echo "cnsgw serve peak RSS: $((before / 1024)) MiB before the 2M-entry CRL, $((after / 1024)) MiB with it loaded"
fi

# --- The card step of a pending login, with a 3,000,000-entry CRL -------------------------------------------------
pending_data="$work/data-pending"
"$cnsgw" serve --data-dir "$pending_data" --public-port 19450 --card-port 19451 >"$work/serve-pending.log" 2>&1 &
pending_pid=$!
for _ in $(seq 100); do curl -sk https://127.0.0.1:19450/healthz >/dev/null 2>&1 && break; sleep 0.2; done
pcard="$pending_data/demo-pki/cards/rccmnl83s18d969h"
trust_demo_ca_with_crl "$pending_data" 3000000 "$work/big3m.der"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/sp.key" -out "$work/sp.crt" -days 2 -subj "/CN=bench SP" 2>/dev/null
python3 Tests/SAML/sp_client.py metadata --lib pysaml2 --entity-id https://bench.example.it/sp --acs https://127.0.0.1:9/acs \
  --key "$work/sp.key" --cert "$work/sp.crt" --spid >"$work/sp.xml"
"$cnsgw" sp add "$work/sp.xml" --data-dir "$pending_data" >/dev/null
if [ -n "$baseline" ]; then   # the baseline version's gateway, set up the same way
  base_pending="$work/data-pending-base"
  # With the limits off like this version's (a baseline older than those settings refuses them and does not start).
  "$base_bin" serve --data-dir "$base_pending" --public-port 19452 --card-port 19453 >"$work/serve-pending-base.log" 2>&1 &
  base_pending_pid=$!
  for _ in $(seq 100); do curl -sk https://127.0.0.1:19452/healthz >/dev/null 2>&1 && break; sleep 0.2; done
  trust_demo_ca_with_crl "$base_pending" 3000000 "$work/big3m-base.der" "$base_bin"
  "$base_bin" sp add "$work/sp.xml" --data-dir "$base_pending" >/dev/null
  base_pcard="$base_pending/demo-pki/cards/rccmnl83s18d969h"
fi
sleep 2   # the running gateway reads trusted CAs and providers again within a second; then warm the CRL
warm=""
for _ in $(seq 60); do
  warm=$(curl -sk --cert "$pcard.pem" --key "$pcard.key" https://127.0.0.1:19451/login/card -o /dev/null -w '%{http_code}')
  [ "$warm" = 200 ] && break; sleep 0.5
done
[ "$warm" = 200 ] || { echo "the demo card is not accepted with the 3,000,000-entry CRL (HTTP $warm); see $work/serve-pending.log" >&2; exit 1; }
if [ -n "$baseline" ]; then
  for _ in $(seq 60); do
    warm=$(curl -sk --cert "$base_pcard.pem" --key "$base_pcard.key" https://127.0.0.1:19453/login/card -o /dev/null -w '%{http_code}')
    [ "$warm" = 200 ] && break; sleep 0.5
  done
  [ "$warm" = 200 ] || { echo "the baseline does not accept the demo card (HTTP $warm); see $work/serve-pending-base.log" >&2; exit 1; }
fi
# The host's pace, before the rounds and again after them: BoringSSL's and OpenSSL's RSA-2048 signatures, a figure the
# gateway's code cannot move. The card step loses more to other tenants' load than nginx does (most likely because it
# touches more memory), so a run whose two figures differ, or are slower than the machine's usual, ran on a busy host.
swift build -c release --product cnsgw-bench >/dev/null
host_control() { "$(swift build -c release --show-bin-path)/cnsgw-bench" rsa-sign - | sed "s/^rsa-sign:/host control $1 (rsa-sign):/"; }
host_control "before the rounds"
nginx_workers() { pgrep -P "$(cat "$work/nginx.pid")" | tr '\n' ' '; }
cpu_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }
echo
echo "card step of a pending login (3,000,000-entry CRL loaded) vs nginx's client-certificate handshake;"
echo "'handshake' is the same card listener's /healthz: the TLS handshake with the card through swift-nio-ssl alone"
: >"$work/pending.jsonl"
# measure ROUND CLIENTS NAME PORT PATH CARD PIDS...: one run, its server CPU, one JSON line in pending.jsonl.
measure() {
  local round=$1 c=$2 name=$3 port=$4 path=$5 cardfile=$6; shift 6
  local before after result
  before=$(cpu_ticks "$@")
  result=$(run "$port" "$path" "$c" "$cardfile")
  after=$(cpu_ticks "$@")
  python3 - "$result" "$round" "$c" "$name" "$((after - before))" "$(getconf CLK_TCK)" "$work/pending.jsonl" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
r.update(round=int(sys.argv[2]), clients=int(sys.argv[3]), target=sys.argv[4], cpu_ms=int(sys.argv[5]) * 1000 / int(sys.argv[6]))
open(sys.argv[7], "a").write(json.dumps(r) + "\n")
unused = f", unused {r['unused']}" if r.get("unused") is not None else ""
print(f"{r['round']:<6} {r['clients']:<8} {r['target']:<10} {r['rate']:>8} {r['p50_ms']:>8} {r['p99_ms']:>8} {r['cpu_ms'] / max(r['ok'], 1):>11.2f}   "
      f"failed {r['failed']}{unused}, {'/'.join(r.get('tls', [])) or '?'}")
PY
}
# steps FILE PUBLIC_PORT COUNT: starts COUNT pending logins at that gateway, their card steps into FILE.
steps() { python3 bench/pending_logins.py "https://127.0.0.1:$2" "$work/sp.key" https://bench.example.it/sp "$3" >"$1"; }
rate_of() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])["rate"])' "$1"; }
# Warm-up, not counted: the first card steps after start-up and the CRL's loading ran slower (the database's WAL file
# growing, first-touch memory), and a long-running gateway is past that. It also sizes each round's pending logins
# from nginx's rate at each client count.
declare -A expected
for c in 1 8; do
  expected[$c]=$(rate_of "$(python3 bench/card_logins.py 127.0.0.1 19445 "$card.pem" "$card.key" / 2 "$c")")
done
steps "$work/steps.txt" 19450 600
python3 bench/card_logins.py 127.0.0.1 19451 "$pcard.pem" "$pcard.key" "@$work/steps.txt" 2 8 >/dev/null
if [ -n "$baseline" ]; then
  steps "$work/steps-base.txt" 19452 600
  python3 bench/card_logins.py 127.0.0.1 19453 "$base_pcard.pem" "$base_pcard.key" "@$work/steps-base.txt" 2 8 >/dev/null
fi
printf '%-6s %-8s %-10s %8s %8s %8s %11s\n' round clients target "req/s" "p50 ms" "p99 ms" "CPU ms/req"
# Each round starts the pending logins first, then measures nginx, the handshake alone and the card step back to back
# (the machine's pace drifts over the minutes the logins take to start), in alternating order from round to round.
for round in 1 2 3 4 5; do
  for c in 1 8; do
    count=$(python3 -c "print(int(${expected[$c]} * $seconds * 1.5) + 200)")
    steps "$work/steps.txt" 19450 "$count"
    if [ -n "$baseline" ]; then steps "$work/steps-base.txt" 19452 "$count"; fi
    order="nginx handshake card baseline"
    if [ $((round % 2)) = 0 ]; then order="baseline card handshake nginx"; fi
    for target in $order; do
      case $target in
        nginx) measure "$round" "$c" nginx 19445 / "$card" $(nginx_workers)   # nginx trusts the first gateway's demo CA, so its card
               ng_rate=$(tail -1 "$work/pending.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rate"])')
               expected[$c]=$(python3 -c "print(max(${expected[$c]}, $ng_rate))") ;;
        handshake) measure "$round" "$c" handshake 19451 /healthz "$pcard" "$pending_pid" ;;
        card) measure "$round" "$c" "card step" 19451 "@$work/steps.txt" "$pcard" "$pending_pid" ;;
        baseline) if [ -n "$baseline" ]; then
                    measure "$round" "$c" "baseline card step" 19453 "@$work/steps-base.txt" "$base_pcard" "$base_pending_pid"
                  fi ;;
      esac
    done
  done
done
python3 - "$work/pending.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
targets = [t for t in ("card step", "handshake", "baseline card step") if any(r["target"] == t for r in runs)]
comparisons = [(t, "nginx") for t in targets] + ([("card step", "baseline card step")] if "baseline card step" in targets else [])
for c in sorted({r["clients"] for r in runs}):
    for target, against in comparisons:
        rates, cpus = [], []
        for rnd in sorted({r["round"] for r in runs}):
            pick = {r["target"]: r for r in runs if r["clients"] == c and r["round"] == rnd}
            ng, mine = pick[against], pick[target]
            rates.append(mine["rate"] / ng["rate"])
            cpus.append((mine["cpu_ms"] / max(mine["ok"], 1)) / (ng["cpu_ms"] / max(ng["ok"], 1)))
        print(f"{c} client(s), {target}: rate / {against} median {statistics.median(rates):.2f} (rounds {', '.join(f'{x:.2f}' for x in sorted(rates))}); "
              f"CPU per request / {against} median {statistics.median(cpus):.2f}")
PY
# The handshake's own signature, BoringSSL (swift-nio-ssl's) against OpenSSL 3 (nginx's, and the gateway's RSA key's),
# which is also the host's pace after the rounds.
host_control "after the rounds"
