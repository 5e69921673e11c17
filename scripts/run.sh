#!/usr/bin/env bash
# Installs what is missing, builds codepipeline-local (Release) and starts it on port 4566 with
# the data dir ./data. Extra arguments are passed to the server (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCPL_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)"
exec ./build/codepipeline-local --data-dir ./data "$@"
