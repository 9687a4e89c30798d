#!/usr/bin/env bash
# Installs the Debian packages Xinex needs for running and testing, but only those
# that are missing. Safe to run repeatedly: when everything is present it only checks
# (a few milliseconds) and says so. `apt-get update` runs at most once, and only when
# something has to be installed.
#
#   python3-venv        `python3 -m venv` (Debian ships ensurepip separately)
#   postgresql          server binaries (initdb, pg_ctl) for throwaway test clusters
#   redis-server        throwaway Redis for tests
#   xmlsec1             program used by pysaml2 (test IdP)
#   libxmlsec1-openssl  xmlsec crypto backend
#   chromium, chromium-driver   browser tests
#   wrk                 load generator for make bench
#   prometheus-alertmanager   the real Alertmanager the inbound-alert tests page Xinex through
#
# XINEX_SKIP_SYSTEM_DEPS=1 skips everything.
set -euo pipefail

if [[ "${XINEX_SKIP_SYSTEM_DEPS:-}" == "1" ]]; then
    echo "system deps: skipped (XINEX_SKIP_SYSTEM_DEPS=1)"
    exit 0
fi

have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_pkg() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=()

python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
have_cmd redis-server || [[ -x /usr/bin/redis-server ]] || missing+=(redis-server)
have_cmd xmlsec1 || missing+=(xmlsec1)
have_pkg libxmlsec1-openssl || missing+=(libxmlsec1-openssl)
have_cmd chromium || have_pkg chromium || missing+=(chromium)
have_cmd chromedriver || have_pkg chromium-driver || missing+=(chromium-driver)
have_cmd wrk || missing+=(wrk)
have_cmd prometheus-alertmanager || missing+=(prometheus-alertmanager)

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "system deps: all present (postgresql, redis-server, xmlsec1, libxmlsec1-openssl, chromium, chromium-driver, wrk, prometheus-alertmanager)"
    exit 0
fi

echo "system deps: missing: ${missing[*]}"

if ! have_cmd apt-get; then
    echo "system deps: apt-get not found; please install: ${missing[*]}" >&2
    exit 1
fi

SUDO=()
if [[ "$(id -u)" != "0" ]]; then
    if have_cmd sudo && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        echo "system deps: not root and no passwordless sudo; install them yourself:" >&2
        echo "    sudo apt-get install ${missing[*]}" >&2
        echo "system deps: continuing without them (tests needing them will fail or skip)" >&2
        exit 0
    fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "system deps: apt-get update"
"${SUDO[@]}" apt-get update -qq
echo "system deps: apt-get install ${missing[*]}"
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}"
echo "system deps: installed ${missing[*]}"
