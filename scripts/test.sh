#!/usr/bin/env bash
# Installs what is missing, then builds and runs every test twice: a Release build, and a build
# under AddressSanitizer and UndefinedBehaviorSanitizer; then the concurrent ones under
# ThreadSanitizer. Fuzz targets are built when clang exists.
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(bash scripts/install-deps.sh --test | tail -n 1)
jobs=$(nproc)

run_suite() { # build-dir cmake-args...
    local dir=$1; shift
    # CPL_TESTS is set explicitly: a cache configured without tests must not be reused as is.
    cmake -S . -B "$dir" -DCPL_TESTS=ON -DCPL_PYTHON="$python" "$@" >/dev/null
    cmake --build "$dir" -j"$jobs"
    (cd "$dir" && ctest --output-on-failure -j"$jobs" --timeout 600 ${only:+-R "$only"}) |
        tee "$dir/ctest.log"
    local n
    n=$(sed -n 's/.*tests failed out of \([0-9][0-9]*\).*/\1/p' "$dir/ctest.log" | tail -n 1)
    if [ -z "$n" ] || [ "$n" -eq 0 ]; then
        echo "$dir: ctest ran no tests (is Criterion installed? see the cmake warnings)" >&2
        exit 1
    fi
    total=$((total + n))
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

echo "== ThreadSanitizer build: the conformance tests that drive threads"
# The work queue, listeners, the runner and shutdown run on several threads. The unit tests cannot
# run under TSan: Criterion's process arena fails to map beside TSan's shadow memory
# (Snaipe/Criterion#274). The whole conformance suite under TSan would take CI past its
# 15 minutes on 2 cores, so this stage runs those that drive threads: robustness (hundreds of
# connections, shutdown with requests in flight), s3_crash (parallel writers, kill -9),
# codecommit_git (pushes through the runner), server_behaviour (concurrent requests, start
# and stop of the services), codedeploy_deployments (deployments on the work queue, stopped and
# interrupted), and the engine's engine_approval (executions of every mode on the queue),
# engine_variables (parallel Commands actions through the runner) and engine_recovery (kill -9);
# extend the list with the tests of new background work. Measured on
# 2 cores: these take about 40 s, the whole suite 80 s. scripts/tsan.supp: libraries' false
# positives only.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/scripts/tsan.supp"
only='^conformance_test_(robustness|s3_crash|codecommit_git|server_behaviour|codedeploy_deployments|engine_approval|engine_variables|engine_recovery)$' \
    run_suite build-tsan -DCMAKE_BUILD_TYPE=Debug -DCPL_TSAN=ON

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
