#!/usr/bin/env bash
# Refreshes the README's pictures: runs the headless-Chromium test with its screenshots written to docs/screenshots
# (the test suite itself writes them to a temporary folder, so a test run never changes tracked files). The variable
# has no CNSGW_ prefix: `cnsgw serve`, started by the test with this environment, refuses unknown CNSGW_ settings.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
SCREENSHOTS_DIR="$PWD/docs/screenshots" swift test --filter BrowserTests
git status --short docs/screenshots
