#!/usr/bin/env bash
# OpenID Federation benchmark (issue 13): the authorization endpoint's engine with the gateway's registrar over
# SQLite, against a federation of one trust anchor and RELYING_PARTIES relying parties served over HTTP on 127.0.0.1.
# Per relying party, in one run and interleaved: its first authorization request (chain not cached: its Entity
# Configuration, the anchor's Entity Configuration and Subordinate Statement fetched and verified, the policy applied,
# the trust mark checked, the registration stored), the same request again (chain cached), and a request of a client
# registered by an admin — the baseline. Prints p50/p99 of each and the ratios to the baseline.
# Usage: bench/federation.sh [RELYING_PARTIES] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product cnsgw-federation-bench >/dev/null
"$(swift build -c release --show-bin-path)/cnsgw-federation-bench" "${1:-100}" "${2:-5}"
