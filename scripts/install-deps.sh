#!/usr/bin/env bash
# Installs what building, running and testing codepipeline-local needs on Debian, skipping what is
# already there. Prints the python3 to use for the conformance tests on its last line.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config git libmicrohttpd-dev libjson-c-dev liblmdb-dev
            libssl-dev libcurl4-openssl-dev libpcre2-dev libgit2-dev libarchive-dev libyaml-dev
            libexpat1-dev zip unzip bubblewrap)
test_pkgs=(libcriterion-dev wrk curl clang-format)
want=("${build_pkgs[@]}")
[ "${1:-}" = "--test" ] && want+=("${test_pkgs[@]}")

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

python=python3
if [ "${1:-}" = "--test" ]; then
    # The conformance tests drive the server with the AWS CLI and boto3, as users do.
    if ! python3 -c "import boto3" >/dev/null 2>&1; then
        missing+=(python3-boto3)
        python=/usr/bin/python3
    fi
    # Debian's awscli is the CLI v2 (/usr/bin/aws), which has `aws logs tail`; the tests that need
    # v2 call it by that path, whatever `aws` comes first on the PATH.
    [ -x /usr/bin/aws ] || missing+=(awscli)
    # The JavaScript SDK test (conformance-tests/js) runs on node with packages from npm. Checked by
    # command, not by package: NodeSource's nodejs ships npm and conflicts with Debian's npm.
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
fi

if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
command -v "$python"
