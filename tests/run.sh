#!/bin/sh
# The whole test suite, as CI runs it: installs the build and test
# dependencies (Debian 12, as root or through sudo), builds blindrelay with
# -Werror and AddressSanitizer/UBSan into build-ci/, and runs every unit and
# integration test with ctest. Integration tests stay on loopback.
#
#   ./tests/run.sh                 # everything
#   BR_TEST_SERVER=coturn ./tests/run.sh   # integration tests against coturn
#   BR_SKIP_APT=1 ./tests/run.sh   # do not touch packages
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BR_BUILD_DIR:-$SRC/build-ci}
JOBS=$(nproc 2>/dev/null || echo 2)

PACKAGES="build-essential cmake pkg-config git libevent-dev libssl-dev libsrtp2-dev
libmicrohttpd-dev libcriterion-dev coturn clang python3-aioice iproute2 openssl prometheus curl strace"

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

cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBR_WERROR=ON -DBR_SANITIZE=ON
cmake --build "$BUILD" -j "$JOBS"
# halt_on_error: a sanitizer finding fails the test that hit it.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd "$BUILD"
exec ctest --output-on-failure --timeout 300
