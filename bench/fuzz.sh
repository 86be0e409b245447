#!/usr/bin/env bash
# Runs one libFuzzer target (issue 14) for SECONDS (default 60): builds the fuzz package (Fuzz/) with AddressSanitizer
# and libFuzzer's instrumentation in .build-fuzz, then fuzzes from the committed seeds (Fuzz/Corpus/TARGET) into a working
# corpus kept between runs (.build-fuzz/corpus/TARGET). A crash, leak or timeout leaves its input in
# .build-fuzz/artifacts/ and fails; the last lines give executions and coverage (cov: edges, ft: features).
# Usage: bench/fuzz.sh TARGET [SECONDS]       bench/fuzz.sh list
set -euo pipefail
cd "$(dirname "$0")/.."
targets="json base64url jws jwe saml-redirect saml-post saml-post-xml saml-time saml-metadata inflate crl crl-index certificate ocsp trusted-list proxy-header form"
target=${1:?usage: bench/fuzz.sh TARGET [SECONDS] (targets: $targets)}
seconds=${2:-60}
if [ "$target" = list ]; then echo "$targets"; exit 0; fi
case "$target" in
  json|base64url|jws|jwe) product=FuzzOIDC ;;
  saml-redirect|saml-post|saml-post-xml|saml-time|saml-metadata|inflate) product=FuzzSAML ;;
  crl|crl-index|certificate|ocsp|trusted-list) product=FuzzPKI ;;
  proxy-header|form) product=FuzzRequest ;;
  *) echo "unknown target $target (targets: $targets)" >&2; exit 2 ;;
esac
# SwiftPM links an executable with its own `main` (which calls the target's FuzzX_main), so the targets are built with
# AddressSanitizer and libFuzzer's coverage instrumentation and linked with libFuzzer's driver without its main
# (-sanitize=fuzzer would link a second main).
nomain=$(ls "$(dirname "$(dirname "$(command -v swiftc)")")"/lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a | head -1)
swift build --package-path Fuzz --scratch-path .build-fuzz -c debug -Xswiftc -sanitize=address \
  -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table -Xswiftc -parse-as-library \
  -Xlinker "$nomain" -Xlinker -lstdc++ --product "$product" 2>&1 | grep -E "error" || true
binary=.build-fuzz/debug/$product
[ -x "$binary" ] || { echo "the fuzz build failed" >&2; exit 1; }
work=.build-fuzz/corpus/$target
mkdir -p "$work" .build-fuzz/artifacts
CNSGW_FUZZ_TARGET=$target ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=Fuzz/lsan-suppressions.txt SWIFT_BACKTRACE=enable=no "$binary" "$work" "Fuzz/Corpus/$target" -max_total_time="$seconds" -timeout=10 \
  -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix=".build-fuzz/artifacts/$target-" 2>&1 | tail -25
