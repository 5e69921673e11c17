#!/usr/bin/env bash
# Installs what is missing, then builds and runs every test twice: a Release build, and a build
# under AddressSanitizer and UndefinedBehaviorSanitizer. Fuzz targets are built when clang exists.
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(bash scripts/install-deps.sh --test | tail -n 1)
jobs=$(nproc)

run_suite() { # build-dir cmake-args...
    local dir=$1; shift
    cmake -S . -B "$dir" -DCPL_PYTHON="$python" "$@" >/dev/null
    cmake --build "$dir" -j"$jobs"
    (cd "$dir" && ctest --output-on-failure -j"$jobs" --timeout 600) | tee "$dir/ctest.log"
    total=$((total + $(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$dir/ctest.log")))
}
total=0

echo "== formatting (.clang-format)"
git ls-files '*.c' '*.h' | xargs clang-format --dry-run -Werror

echo "== Release build and tests"
run_suite build -DCMAKE_BUILD_TYPE=Release

echo "== ASan + UBSan build and tests"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DCPL_ASAN=ON -DCPL_UBSAN=ON

if command -v clang >/dev/null 2>&1; then
    echo "== fuzz targets (build and a short smoke run)"
    CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCPL_FUZZ=ON -DCPL_TESTS=OFF >/dev/null
    cmake --build build-fuzz -j"$jobs"
    while IFS= read -r f; do
        work=$(mktemp -d)
        if ! "$f" -max_total_time=10 -print_final_stats=1 -artifact_prefix="$work/" "$work" \
                >"$work/log" 2>&1; then
            tail -n 40 "$work/log"
            echo "$(basename "$f"): FAILED"
            exit 1
        fi
        echo "$(basename "$f"): ok, $(grep -o 'number_of_executed_units: [0-9]*' "$work/log")"
        rm -rf "$work"
    done < <(find build-fuzz -name 'fuzz_*' -type f -executable)
fi

echo "ctest: $total passed, 0 failed"
