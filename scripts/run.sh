#!/usr/bin/env bash
# The run command: builds cnsgw and runs the gateway on its embedded default (./var: SQLite, a generated
# development server certificate, a demo test PKI with demo cards whose CA is trusted), on 127.0.0.1.
# Extra arguments go to `cnsgw serve` (see `cnsgw serve --help`). Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh run
swift build --product cnsgw
exec "$(swift build --show-bin-path)/cnsgw" serve "$@"
