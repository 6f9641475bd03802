#!/usr/bin/env bash
# Installs what the scripts and tests need, and nothing that is already there:
#   system: libhiredis-dev libcrypt-dev redis-server zlib1g-dev curl openssl nginx-light wrk nghttp2-client chromium
#           chromium-driver
#           (apt-get, as root or via sudo)
#   python: the PYTHON_MODULES list below                                                        (python3 -m pip)
# Safe to run again and again: when everything is present it only checks and exits 0.
set -euo pipefail

log() { printf 'bootstrap: %s\n' "$*" >&2; }

if ! command -v swift >/dev/null 2>&1; then
    log "swift is not on PATH; install a Swift 6.2+ toolchain first (https://www.swift.org/install/)"
    exit 1
fi

# package → a file or command whose presence means "installed" (works whatever the exact Debian package variant)
missing=()
have_file() { [ -e "$1" ]; }
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_file /usr/include/hiredis/hiredis.h || missing+=(libhiredis-dev)
have_cmd redis-server || missing+=(redis-server)
have_file /usr/include/zlib.h || missing+=(zlib1g-dev)
have_cmd curl || missing+=(curl)
# TLS tests: openssl checks `gateway cert dev` output; redis-cli --tls talks to the TLS redis-server.
have_cmd openssl || missing+=(openssl)
have_cmd redis-cli || missing+=(redis-tools)
{ have_cmd nginx || have_file /usr/sbin/nginx; } || missing+=(nginx-light)
have_cmd wrk || missing+=(wrk)
# HTTP/2 smoke test and benchmark (h2load)
have_cmd h2load || missing+=(nghttp2-client)
have_file /usr/include/crypt.h || missing+=(libcrypt-dev)
# the dashboard's browser tests: headless Chromium driven by Selenium
have_cmd chromium || missing+=(chromium)
have_cmd chromedriver || missing+=(chromium-driver)
# pip package = the module it provides; one per line so that additions merge cleanly
PYTHON_MODULES=(
    pytest=pytest
    pytest-timeout=pytest_timeout
    requests=requests
    websockets=websockets
    selenium=selenium
    jsonschema=jsonschema
    pyyaml=yaml
    h2=h2
    grpcio=grpc
    pyjwt=jwt
    cryptography=cryptography
    opentelemetry-proto=opentelemetry.proto.collector.trace.v1.trace_service_pb2
)
pip_names=(); import_names=()
for entry in "${PYTHON_MODULES[@]}"; do pip_names+=("${entry%%=*}"); import_names+=("${entry#*=}"); done
python_modules_ok() { python3 -c "import $(IFS=,; echo "${import_names[*]}")" >/dev/null 2>&1; }
if ! have_cmd python3; then
    missing+=(python3 python3-pip)
elif ! python_modules_ok && ! python3 -m pip --version >/dev/null 2>&1; then
    missing+=(python3-pip)
fi

if [ "${#missing[@]}" -gt 0 ]; then
    if ! have_cmd apt-get; then
        log "missing ${missing[*]} and apt-get is not available; install them with your package manager"
        exit 1
    fi
    sudo_cmd=()
    if [ "$(id -u)" -ne 0 ]; then
        if have_cmd sudo; then sudo_cmd=(sudo); else log "missing ${missing[*]}; run as root or install sudo"; exit 1; fi
    fi
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update -qq </dev/null
    "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" </dev/null
fi

if ! python_modules_ok; then
    log "installing python test modules (${pip_names[*]})"
    if ! python3 -m pip install -q "${pip_names[@]}" </dev/null; then
        # Debian's system python refuses plain pip installs (PEP 668).
        python3 -m pip install -q --break-system-packages "${pip_names[@]}" </dev/null
    fi
fi
exit 0
