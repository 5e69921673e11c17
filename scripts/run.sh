#!/usr/bin/env bash
# Installs what is missing, builds codepipeline-local (Release) and starts it on port 4566 with
# the data dir ./data. Extra arguments are passed to the server (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh >/dev/null
# Its own build dir: scripts/test.sh builds build/ with the tests, and either may run first.
cmake -S . -B build-run -DCMAKE_BUILD_TYPE=Release -DCPL_TESTS=OFF >/dev/null
cmake --build build-run -j"$(nproc)"
exec ./build-run/codepipeline-local --data-dir ./data "$@"
