#!/usr/bin/env bash
# The run command (until `cnsgw serve` lands): builds cnsgw, makes a demo test PKI with two cards in ./var/demo-pki,
# serves its CRL (python http.server) and OCSP (openssl ocsp) on 127.0.0.1, and runs `cnsgw verify` on a good and a
# revoked card, first through OCSP, then through the CRL alone.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --product cnsgw
cnsgw="$(swift build --show-bin-path)/cnsgw"
pki=var/demo-pki
crl_port=${CNSGW_DEMO_CRL_PORT:-18080}
ocsp_port=${CNSGW_DEMO_OCSP_PORT:-18081}
if [ ! -f "$pki/pki.json" ]; then
  "$cnsgw" testpki init "$pki" --crl-url "http://127.0.0.1:$crl_port/crl.der" --ocsp-url "http://127.0.0.1:$ocsp_port"
  "$cnsgw" testpki card "$pki" --cf RCCMNL83S18D969H --given-name Mario --surname Rossi
  "$cnsgw" testpki card "$pki" --cf RSSMRA80A01H501U --given-name Maria --surname Verdi --revoked
fi
python3 -m http.server "$crl_port" --bind 127.0.0.1 --directory "$pki" >var/demo-crl.log 2>&1 &
crl_pid=$!
openssl ocsp -index "$pki/index.txt" -CA "$pki/ca.pem" -rsigner "$pki/ocsp.pem" -rkey "$pki/ocsp.key" \
  -port "$ocsp_port" -nmin 5 >var/demo-ocsp.log 2>&1 &
ocsp_pid=$!
trap 'kill $crl_pid $ocsp_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q "waiting for OCSP" var/demo-ocsp.log 2>/dev/null && break; sleep 0.1; done
sleep 0.5
for card in rccmnl83s18d969h rssmra80a01h501u; do
  echo "== cnsgw verify $pki/cards/$card.pem --trust $pki/ca.pem"
  "$cnsgw" verify "$pki/cards/$card.pem" --trust "$pki/ca.pem" || true
  echo "== the same through the CRL only (--revocation crl-only --json)"
  "$cnsgw" verify "$pki/cards/$card.pem" --trust "$pki/ca.pem" --revocation crl-only --json || true
  echo
done
echo "Demo cards for a browser: $pki/cards/*.p12 (password cnsgw-test). More: $pki/README.txt"
