#!/bin/sh
# Quick start on Debian 12: installs the build dependencies, builds
# blindrelay (Release) into build/, creates a random TURN REST shared secret
# (kept across runs), mints a 24-hour credential, prints an iceServers entry
# to paste into a browser, and runs blindrelay on 127.0.0.1:3478 in the
# foreground (Ctrl-C stops it). Extra arguments are passed to blindrelay.
#
# This is a local trial setup on loopback, not a production deployment: see
# docs/configuration.md for listen/relay/external addresses, the peer policy
# and running as an unprivileged user.
#
# Environment: BR_BUILD_DIR (default build/), BR_PORT (default 3478),
# BR_SKIP_APT=1 to leave packages alone.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BR_BUILD_DIR:-$SRC/build}
PORT=${BR_PORT:-3478}
PACKAGES="build-essential cmake pkg-config libevent-dev libssl-dev libmicrohttpd-dev openssl"

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ] && [ "${BR_SKIP_APT:-0}" != 1 ]; then
    [ "$(id -u)" -eq 0 ] || { echo "quickstart: run as root (or sudo) to install:$missing" >&2; exit 1; }
    echo "quickstart: installing:$missing"
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi

# The daemon only: the test suite (and its criterion dependency) is for
# tests/run.sh, blindrelay-bench (and its libsrtp2) for -DBR_BENCH=ON.
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBR_TESTS=OFF >/dev/null
cmake --build "$BUILD" --target blindrelay -j "$(nproc 2>/dev/null || echo 2)"

# The shared secret: readable by its owner only, created once so that
# credentials minted earlier stay valid after a restart.
if [ "$(id -u)" -eq 0 ]; then
    SECRET_FILE=/etc/blindrelay/secret
else
    SECRET_FILE=$BUILD/secret
fi
if [ ! -s "$SECRET_FILE" ]; then
    (
        umask 077
        mkdir -p "$(dirname "$SECRET_FILE")"
        openssl rand -base64 32 >"$SECRET_FILE"
    )
    echo "quickstart: new shared secret in $SECRET_FILE"
fi

ENTRY=$("$SRC/deploy/mint-credential.sh" -f "$SECRET_FILE" -t 86400 \
    -u "turn:127.0.0.1:$PORT?transport=udp" -u "turn:127.0.0.1:$PORT?transport=tcp")
cat <<EOF

blindrelay is starting on 127.0.0.1:$PORT (UDP and TCP). Paste this into your
RTCPeerConnection configuration (the credential is valid for 24 hours; mint
more with deploy/mint-credential.sh -f $SECRET_FILE):

  { iceServers: [$ENTRY],
    iceTransportPolicy: "relay" }

("relay" forces the media through blindrelay, so you can see it work.)

EOF

# No allow-peer rule is needed: two browser tabs on this machine relay to
# each other between relay addresses of this server (127.0.0.1, relay port
# range), which the peer policy allows; every other loopback or private
# peer stays refused.
exec "$BUILD/blindrelay" --listen "127.0.0.1:$PORT" --relay-ip 127.0.0.1 \
    --auth-secret-file "$SECRET_FILE" "$@"
