#!/usr/bin/env bash
# Installs the Debian packages cnsgw builds and tests with, when missing (Debian 12; Swift itself must be on PATH).
set -euo pipefail
packages=(libssl-dev libxml2-dev libxmlsec1-dev libxmlsec1-openssl xmlsec1 libsqlite3-dev sqlite3 pkg-config openssl python3 ca-certificates curl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "swift is not on PATH: install the Swift 6 toolchain first (swift.org)" >&2; exit 1; }
