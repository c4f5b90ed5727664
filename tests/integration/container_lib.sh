# Helpers for the container tests (sourced after lib.sh): podman set up to
# run here, the base images (deploy/container/base-images.sh, cached) and the
# blindrelay image (deploy/container/Containerfile).
#
# Opt-in: the first run builds two Debian base images with mmdebstrap (about
# 3 + 4 minutes on a 2-core machine) and every run builds the image (about a
# minute when the sources changed); set BR_CONTAINER_TESTS=1 to run.
# A machine where podman cannot run containers skips with
# "SKIP: podman cannot run here: REASON", never a silent pass.

SRC=$(cd "$(dirname "$0")/../.." && pwd)
IMAGE=${BR_CONTAINER_IMAGE:-localhost/blindrelay:test}
# the image's user (Containerfile: USER 10001:10001)
# shellcheck disable=SC2034 # used by the scripts that source this file
IMAGE_UID=10001

skip() {
    log "SKIP: $*"
    exit 0
}

# container_setup: skips unless opted in and podman can run a container;
# builds the base images (if missing) and the image. Sets PODMAN_RUN_OPTS.
container_setup() {
    local t0 err
    if [ "${BR_CONTAINER_TESTS:-0}" != 1 ]; then
        skip "opt-in: set BR_CONTAINER_TESTS=1 (builds Debian base images with mmdebstrap and the image with podman: minutes the first time)"
    fi
    command -v podman >/dev/null || skip "podman cannot run here: podman is not installed (apt-get install podman)"
    err=$(podman info 2>&1 >/dev/null) || skip "podman cannot run here: podman info: $(echo "$err" | tail -1)"
    if ! podman image exists debian:bookworm-slim || ! podman image exists debian:bookworm; then
        command -v mmdebstrap >/dev/null ||
            skip "podman cannot run here: no base images and no mmdebstrap to build them (apt-get install mmdebstrap)"
        t0=$SECONDS
        "$SRC/deploy/container/base-images.sh" || die "base-images.sh failed"
        log "base images built in $((SECONDS - t0)) s"
    fi
    podman_probe || skip "podman cannot run here: $PROBE_ERR"
    t0=$SECONDS
    # docker format: OCI image configs have no HEALTHCHECK
    if ! podman build -q --format docker -f "$SRC/deploy/container/Containerfile" -t "$IMAGE" "$SRC" \
        >"$WORK/build.log" 2>&1; then
        tail -30 "$WORK/build.log"
        die "podman build failed"
    fi
    log "image $IMAGE built in $((SECONDS - t0)) s, $(podman image inspect --format '{{.Size}}' "$IMAGE") bytes"
}

# podman_probe: true if a container runs. Where crun cannot (a cgroup v1
# host with a controller left in cgroup v2, or no CAP_SYS_RESOURCE to set
# podman's default rlimits), retries with runc and the current limits,
# through a containers.conf of this test (CONTAINERS_CONF, so build, run and
# kube play all use it). Sets PROBE_ERR.
podman_probe() {
    PROBE_ERR=$(podman run --rm --network none debian:bookworm-slim true 2>&1) && return 0
    log "podman with its defaults: $(echo "$PROBE_ERR" | tail -1); trying runc and this shell's limits"
    command -v runc >/dev/null || {
        PROBE_ERR="$(echo "$PROBE_ERR" | tail -1) (and no runc to try: apt-get install runc)"
        return 1
    }
    cat >"$WORK/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=4096:4096"]
[engine]
runtime = "runc"
CONF
    export CONTAINERS_CONF=$WORK/containers.conf
    PROBE_ERR=$(podman run --rm --network none debian:bookworm-slim true 2>&1) && return 0
    PROBE_ERR=$(echo "$PROBE_ERR" | tail -1)
    return 1
}
