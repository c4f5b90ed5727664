#!/bin/bash
# Builds the two base images the Containerfile starts FROM, for machines
# that reach Debian's package mirror but no container registry, and imports
# them into podman under the names Docker Hub uses:
#   debian:bookworm-slim  Debian 12 minbase (what the runtime stage installs
#                         its libraries into)
#   debian:bookworm       Debian 12 minbase with the build dependencies
#                         already installed (the build stage's apt-get is
#                         then skipped: the build needs no mirror)
# An image that exists already is kept (pass --force to build both again).
# Needs root, mmdebstrap and podman (apt-get install mmdebstrap podman).
#
#   deploy/container/base-images.sh [--force]
#
# BR_DEBIAN_MIRROR: the mirror (default http://deb.debian.org/debian).
set -eu

MIRROR=${BR_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${BR_DEBIAN_SECURITY:-${MIRROR%/debian}/debian-security}
BUILD_PKGS=build-essential,cmake,pkg-config,libevent-dev,libssl-dev,libmicrohttpd-dev
FORCE=0
[ "${1:-}" = --force ] && FORCE=1

command -v mmdebstrap >/dev/null || {
    echo "base-images.sh: mmdebstrap is missing (apt-get install mmdebstrap)" >&2
    exit 1
}

# one NAME INCLUDE: builds and imports NAME unless it exists.
one() {
    local name=$1 include=$2 tmp start
    if [ $FORCE = 0 ] && podman image exists "$name"; then
        echo "base-images.sh: $name exists; kept"
        return 0
    fi
    tmp=$(mktemp -d /var/tmp/br-base.XXXXXX)
    start=$SECONDS
    # shellcheck disable=SC2086 # $include is empty or one option
    if ! mmdebstrap --variant=minbase $include bookworm "$tmp/rootfs.tar" \
        "deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main" \
        "deb $SECURITY bookworm-security main" >"$tmp/mmdebstrap.log" 2>&1; then
        tail -20 "$tmp/mmdebstrap.log" >&2
        rm -rf "$tmp"
        echo "base-images.sh: mmdebstrap failed for $name" >&2
        return 1
    fi
    # the PATH and CMD of Docker Hub's debian images (a plain import has none)
    podman import -q --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' "$tmp/rootfs.tar" "$name" >/dev/null
    rm -rf "$tmp"
    echo "base-images.sh: $name built and imported in $((SECONDS - start)) s"
}

one debian:bookworm-slim ""
one debian:bookworm "--include=$BUILD_PKGS"
