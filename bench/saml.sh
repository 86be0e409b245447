#!/usr/bin/env bash
# SAML benchmark (issue 4), in one run on this machine, pinned to one core:
#  - Responses built and signed per second (one signed assertion, four attributes), against
#    `openssl speed rsa2048` signing on the same core (the floor: one RSA-2048 signature per Response).
# Usage: bench/saml.sh
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product cnsgw-bench >/dev/null
bench="$(swift build -c release --show-bin-path)/cnsgw-bench"
gw=$(taskset -c 1 "$bench" saml-responses /tmp)
rsa=$(taskset -c 1 openssl speed -seconds 5 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6}')
echo "$gw"
echo "openssl speed rsa2048: $rsa signatures/s"
python3 - "$gw" "$rsa" <<'PY'
import re, sys
gw = float(re.search(r"([0-9.]+) signed Responses/s", sys.argv[1]).group(1))
print(f"ratio cnsgw Responses / RSA-2048 signatures: {gw / float(sys.argv[2]):.2f}")
PY
