#!/usr/bin/env bash
# The certificate-decision benchmark (issue 2), in one run on this machine:
#  - loading CRLs of 100,000 and 2,000,000 entries: wall time and peak memory, cnsgw vs `openssl crl -inform DER -noout`
#  - revoked-serial lookups per second, cnsgw's index vs OpenSSL's X509_CRL_get0_by_serial
#  - full `verify` decisions per second on one core with a warm CRL, vs bare X509_verify_cert
# Usage: bench/run.sh [RUNS]   (RUNS repetitions of each load; the median is reported)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
out=bench/out
rm -rf "$out" && mkdir -p "$out"
swift build -c release --product cnsgw-bench >/dev/null
bin=$(swift build -c release --show-bin-path)/cnsgw-bench
pin=""
command -v taskset >/dev/null && pin="taskset -c 1"

$bin make-crls "$out/pki" | tee "$out/make.txt"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { # label command... -> prints "seconds kilobytes" medians
  local label=$1; shift
  : > "$out/$label.times"
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$out/$label.one" $pin "$@" >/dev/null
    cat "$out/$label.one" >> "$out/$label.times"
  done
  echo "$(cut -d' ' -f1 "$out/$label.times" | median) $(cut -d' ' -f2 "$out/$label.times" | median)"
}
printf '%-12s %12s %12s %12s %12s %10s %10s\n' entries "cnsgw s" "openssl s" "cnsgw MiB" "openssl MiB" "time x" "memory x"
for n in 100000 2000000; do
  f="$out/pki/crl-$n.der"
  read -r ct cm < <(measure "cnsgw-$n" "$bin" load-crl "$out/pki" "$f")
  read -r ot om < <(measure "openssl-$n" openssl crl -inform DER -noout -in "$f")
  awk -v n="$n" -v ct="$ct" -v ot="$ot" -v cm="$cm" -v om="$om" 'BEGIN {
    printf "%-12d %12.3f %12.3f %12.1f %12.1f %10.2f %10.2f\n", n, ct, ot, cm/1024, om/1024, ct/ot, cm/om }'
done
$pin "$bin" lookups "$out/pki" "$out/pki/crl-2000000.der"
$pin "$bin" decisions "$out/pki" "$out/pki/crl-2000000.der"
