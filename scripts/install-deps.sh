#!/usr/bin/env bash
# Installs what cnsgw builds and runs with (`install-deps.sh run`) or also tests with (`install-deps.sh`, the
# default), when missing (Debian 12; Swift itself must be on PATH).
set -euo pipefail
mode=${1:-test}
packages=(libssl-dev libxml2-dev libxmlsec1-dev libxmlsec1-openssl libsqlite3-dev libjemalloc-dev zlib1g-dev pkg-config openssl ca-certificates)
if [ "$mode" = test ]; then
  # xmlsec1 signs test trusted lists; xmllint checks SAML messages against the XSDs; chromium, its driver and NSS tools run the browser test; curl, sqlite3 and
  # python3 drive the server tests; nginx and apache2 stand in front of the gateway as the README configures them;
  # postgresql is the shared database of several instances (tests start their own server with scripts/postgres-cluster.sh).
  packages+=(xmlsec1 libxml2-utils sqlite3 python3 python3-pip curl chromium chromium-driver libnss3-tools nginx apache2 postgresql)
fi
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
# Python test clients: selenium 4.50.0 drives Debian's chromedriver; pysaml2 and python3-saml are the SAML SPs.
pip_install() {
  python3 -m pip install -q --disable-pip-version-check "$@" 2>/dev/null || python3 -m pip install -q --disable-pip-version-check --break-system-packages "$@"
}
if [ "$mode" = test ]; then
  python3 -c 'import selenium, sys; sys.exit(selenium.__version__ != "4.50.0")' 2>/dev/null || pip_install selenium==4.50.0
  python3 -c 'import saml2, onelogin.saml2, requests' 2>/dev/null || pip_install "pysaml2>=7.5,<8" "python3-saml>=1.16,<2" requests
  # OIDC relying parties (Tests/OIDC/rp_client.py).
  python3 -c 'import authlib, idpyoidc' 2>/dev/null || pip_install "Authlib>=1.3,<2" "idpyoidc>=5,<6"
  # Python tools that pin their own dependencies, each in a virtualenv of its own under .build: PyPI's SPID/CIE
  # OpenID Federation reference implementation (Tests/Federation; it pins Django, pydantic 1 and a cryptojwt the other
  # clients need not share), and AgID's spid-sp-test, whose SAML 2.0 XSDs the SAML schema tests use with xmllint.
  venv_install() {   # FOLDER MODULE REQUIREMENT
    local venv
    venv="$(cd "$(dirname "$0")/.." && pwd)/.build/$1"
    "$venv/bin/python" -c "import $2" 2>/dev/null && return 0
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "$3"
  }
  venv_install federation-venv spid_cie_oidc "spid-cie-oidc==1.6.3"
  venv_install spid-sp-test-venv spid_sp_test "spid-sp-test==1.2.18"
fi
command -v swift >/dev/null || { echo "swift is not on PATH: install the Swift 6 toolchain first (swift.org)" >&2; exit 1; }
