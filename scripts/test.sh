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
if [ $# -eq 0 ]; then
  # Two runs. The PostgreSQL storage tests check deadlines of a few seconds inside the test process, the federation
  # tests resolve trust chains over HTTP with a clock of their own, and the outbound-request tests read real servers
  # under AsyncHTTPClient's deadlines; beside the rest of the suite, whose synchronous tests hold both cooperative
  # threads of a 2-core machine for minutes while they wait on real servers, their async work could not be scheduled
  # in time (a 3 MB answer read for over 30 s). So they run alone, afterwards.
  alone='PostgresGatewayStorageTests|FederationRegistrarTests|TrustChainResolverTests|OutboundRequestTests'
  swift test --skip-build --skip "$alone" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  swift test --skip-build --filter "$alone" 2>&1 | tee -a "$log"
  second=${PIPESTATUS[0]}
  [ "$status" -eq 0 ] && status=$second
  # The libFuzzer targets build (AddressSanitizer, their own build folder) and run a few seconds each, from the
  # committed seeds; bench/fuzz.sh TARGET SECONDS runs one for long.
  for target in $(bench/fuzz.sh list); do
    if out=$(bench/fuzz.sh "$target" 3 2>&1); then
      echo "fuzz $target: $(echo "$out" | grep -o 'stat::number_of_executed_units: *[0-9]*' | grep -o '[0-9]*$') runs, no crash"
    else
      echo "$out" | tail -40
      echo "fuzz $target: FAILED"
      status=1
    fi
  done
else
  swift test "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
fi
set -e
# One plain closing line for CI (swift-testing's own summary is the line above it).
# A test is named by its display name ("…") or by its function (name()); the run's own summary line is not a test.
passed=$(grep -E '^.{0,12}✔ Test .+ passed after' "$log" | grep -cv '✔ Test run with' || true)
failed=$(grep -E '^.{0,12}✘ Test .+ failed after' "$log" | grep -cv '✘ Test run with' || true)
echo "swift-testing: $passed passed, $failed failed"
exit "$status"
