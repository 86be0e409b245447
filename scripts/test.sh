#!/usr/bin/env bash
# The test command: installs what the tests need, builds, and runs every test (unit, real OCSP responder and
# HTTP CRL server on 127.0.0.1, x509-limbo corpus, CLI). The tests start and stop their own services.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
swift test --skip-build "$@"
