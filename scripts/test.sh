#!/usr/bin/env bash
# The test command: installs what the tests need, builds, and runs every test (unit, real OCSP responder and
# HTTP CRL server on 127.0.0.1, x509-limbo corpus, CLI). The tests start and stop their own services.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
swift test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain closing line for CI (swift-testing's own summary is the line above it).
passed=$(grep -cE '^.{0,12}✔ Test "' "$log" || true)
failed=$(grep -cE '^.{0,12}✘ Test "[^"]*" failed' "$log" || true)
echo "swift-testing: $passed passed, $failed failed"
exit "$status"
