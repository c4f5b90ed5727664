#!/bin/sh
# The whole test suite, as CI runs it: installs the build and test
# dependencies (Debian 12, as root or through sudo), builds blindrelay with
# -Werror and AddressSanitizer/UBSan into build-ci/ and runs every unit,
# integration and format test with ctest; then builds the unit tests alone
# with -fsanitize=alignment and no ASan into build-ci-align/ and runs them
# (ctest -L unit); then builds the libFuzzer targets with clang into
# build-ci-fuzz/ and runs each for a bounded time (ctest -L fuzz). Integration tests stay on loopback. Exits non-zero if any stage
# fails; the later stages still run, so one report shows everything.
#
#   ./tests/run.sh                 # everything
#   BR_TEST_SERVER=coturn ./tests/run.sh   # integration tests against coturn
#   BR_SKIP_APT=1 ./tests/run.sh   # do not touch packages
#   BR_SKIP_ALIGN=1 ./tests/run.sh # no alignment stage
#   BR_SKIP_FUZZ=1 ./tests/run.sh  # no fuzz stage
#   BR_FUZZ_SECONDS=300 ./tests/run.sh     # fuzz longer (default 30 s each)
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BR_BUILD_DIR:-$SRC/build-ci}
FUZZ_BUILD=${BR_BUILD_DIR:-$SRC/build-ci}-fuzz
ALIGN_BUILD=${BR_BUILD_DIR:-$SRC/build-ci}-align
FUZZ_SECONDS=${BR_FUZZ_SECONDS:-30}
JOBS=$(nproc 2>/dev/null || echo 2)
STATUS=0
TIMES=""

# stage_done NAME START: remembers how long a stage took.
stage_done() {
    TIMES="$TIMES $1=$(($(date +%s) - $2))s"
}

PACKAGES="build-essential cmake pkg-config git libevent-dev libssl-dev libsrtp2-dev
libmicrohttpd-dev libcriterion-dev coturn clang clang-format python3-aioice iproute2 openssl prometheus curl strace
chromium chromium-driver libnss3-tools valgrind python3-gi gir1.2-nice-0.1 haproxy"

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ] && [ "${BR_SKIP_APT:-0}" != 1 ]; then
    echo "run.sh: installing:$missing"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    # The coturn package is needed for its test clients (turnutils_*); on a
    # systemd host its service may start on 3478, which the tests do not use.
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi

T=$(date +%s)
# BR_BENCH=ON: the suite runs blindrelay-bench (test_bench.sh), so a
# missing libsrtp2 fails here instead of leaving the bench out.
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBR_WERROR=ON -DBR_SANITIZE=ON \
    -DBR_BENCH=ON
cmake --build "$BUILD" -j "$JOBS"
stage_done build "$T"
# halt_on_error: a sanitizer finding fails the test that hit it.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
T=$(date +%s)
# Unit tests and the format check use no fixed port and no daemon: they run
# JOBS at a time. The integration tests start daemons on loopback ports and
# time what they measure, so they run one at a time.
(cd "$BUILD" && ctest -L 'unit|format' -j "$JOBS" --output-on-failure --timeout 300) || STATUS=1
(cd "$BUILD" && ctest -LE 'unit|format' --output-on-failure --timeout 300) || STATUS=1
stage_done tests "$T"

# Alignment stage: ASan's allocator hands out blocks aligned beyond what
# malloc promises (16 bytes), so the build above cannot see a struct with an
# aligned(64) member put in plain malloc memory. The unit tests alone are
# built again without ASan, with -fsanitize=alignment fatal, and run.
if [ "${BR_SKIP_ALIGN:-0}" != 1 ]; then
    T=$(date +%s)
    if cmake -S "$SRC" -B "$ALIGN_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBR_WERROR=ON \
        -DBR_SANITIZE_ALIGNMENT=ON &&
        cmake --build "$ALIGN_BUILD" -j "$JOBS" --target unit-tests; then
        (cd "$ALIGN_BUILD" && ctest -L unit -j "$JOBS" --output-on-failure --timeout 300) ||
            STATUS=1
    else
        echo "run.sh: the alignment build failed" >&2
        STATUS=1
    fi
    stage_done align "$T"
fi

# Fuzz stage: clang, every library instrumented (BR_FUZZ), only the fuzz
# targets built; each runs FUZZ_SECONDS, in parallel. Crash inputs are kept
# in $FUZZ_BUILD/tests/fuzz-artifacts/.
if [ "${BR_SKIP_FUZZ:-0}" != 1 ]; then
    T=$(date +%s)
    if ! command -v clang >/dev/null 2>&1; then
        echo "run.sh: clang not found: cannot build the fuzz targets" >&2
        STATUS=1
    elif CC=clang cmake -S "$SRC" -B "$FUZZ_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DBR_FUZZ=ON -DBR_FUZZ_SECONDS="$FUZZ_SECONDS" &&
        cmake --build "$FUZZ_BUILD" -j "$JOBS" --target fuzzers; then
        stage_done fuzz-build "$T"
        T=$(date +%s)
        # each fuzzer stops after its time, not its work: all run at once,
        # so the stage lasts as long as the longest one
        (cd "$FUZZ_BUILD" && ctest -L fuzz -j 16 --output-on-failure) || STATUS=1
        stage_done fuzz "$T"
        # libFuzzer's own count of what each target ran
        awk '/^[0-9]+\/[0-9]+ Testing: fuzz\./ { name = $3 }
             /^Done [0-9]+ runs/ { print "run.sh: " name ": " $2 " inputs in " $5 " s" }' \
            "$FUZZ_BUILD/Testing/Temporary/LastTest.log" 2>/dev/null || true
    else
        echo "run.sh: the fuzz build failed" >&2
        STATUS=1
    fi
fi

echo "run.sh: stage times:$TIMES"
if [ "$STATUS" -ne 0 ]; then
    echo "run.sh: FAILED (see above)"
fi
exit "$STATUS"
