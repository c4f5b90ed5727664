# The container image (deploy/container/Containerfile), built with podman
# from base images made from Debian's packages, run with the host network
# and a mounted /etc/blindrelay (config, secret file, certificate and key):
#  - it runs as the unprivileged user, its HEALTHCHECK passes, /healthz and
#    /readyz answer 200 on loopback;
#  - turnutils_uclient relays through it with TURN REST credentials of the
#    mounted secret file over UDP, TCP and TLS, nothing lost;
#  - `podman stop --time 20` (SIGTERM, the image's STOPSIGNAL) drains:
#    /readyz turns 503 at once, a TCP relay in progress finishes with
#    nothing lost, and the container exits by itself with status 0 when it
#    ends, within the grace period, its log showing the drain.
# Opt-in (BR_CONTAINER_TESTS=1): see container_lib.sh. Ports 61700-61749,
# relay ports 65000-65049.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/container_lib.sh"

if [ "$BR_TEST_SERVER" != blindrelay ]; then
    log "blindrelay-specific; nothing to do for $BR_TEST_SERVER"
    exit 0
fi
need "$TESTCLIENT" "$UCLIENT_FRAMES" turnutils_uclient turnutils_peer openssl curl

NAME=br-test-container-$$
container_cleanup() {
    podman rm -f -t 0 "$NAME" >/dev/null 2>&1
    lib_cleanup
}
trap container_cleanup EXIT

container_setup

PORT=$(pick_stream_port 61700)
TLS_PORT=$(pick_stream_port $((PORT + 1)))
ADMIN_PORT=$(pick_stream_port $((TLS_PORT + 1)))
PEER_PORT=$(pick_port $((ADMIN_PORT + 1)))
ADMIN=http://127.0.0.1:$ADMIN_PORT
SECRET=container-secret-$$

# /etc/blindrelay as an operator lays it out: readable by the image's user
# through its group only where it holds secrets
ETC=$WORK/etc
mkdir -p "$ETC/secret" "$ETC/tls"
make_cert server container.test
cp "$WORK/server.pem" "$ETC/tls/tls.crt"
cp "$WORK/server.key" "$ETC/tls/tls.key"
printf '# the old one, still accepted while rotating\nold-secret-%s\n%s\n' $$ "$SECRET" >"$ETC/secret/auth-secret"
chgrp -R "$IMAGE_UID" "$ETC/secret" "$ETC/tls"
chmod 0750 "$ETC/secret" "$ETC/tls"
chmod 0640 "$ETC/secret/auth-secret" "$ETC/tls/tls.key" "$ETC/tls/tls.crt"
chmod 0755 "$ETC"
cat >"$ETC/blindrelay.conf" <<CONF
listen 127.0.0.1:$PORT
tcp
tls-listen 127.0.0.1:$TLS_PORT
cert /etc/blindrelay/tls/tls.crt
key /etc/blindrelay/tls/tls.key
relay-ip 127.0.0.1
relay-ports 65000-65049
allow-peer 127.0.0.0/8
realm container.test
user-quota 0
auth-secret-file /etc/blindrelay/secret/auth-secret
admin-listen 127.0.0.1:$ADMIN_PORT
drain-timeout 15
CONF

http_code() { curl -s -o /dev/null -m 2 -w '%{http_code}' "$ADMIN$1"; }

# start_container: runs the image as $NAME; waits until /readyz answers 200.
start_container() {
    podman rm -f -t 0 "$NAME" >/dev/null 2>&1
    podman run -d --name "$NAME" --network host -v "$ETC:/etc/blindrelay:ro" \
        -e "BR_ADMIN=127.0.0.1:$ADMIN_PORT" "$IMAGE" >"$WORK/run.log" 2>&1 ||
        die "podman run failed: $(tail -1 "$WORK/run.log")"
    for _ in $(seq 100); do
        [ "$(http_code /readyz)" = 200 ] && return 0
        [ "$(podman inspect --format '{{.State.Running}}' "$NAME" 2>/dev/null)" = true ] || break
        sleep 0.1
    done
    podman logs "$NAME" 2>&1 | tail -20
    die "the container did not become ready within 10 s"
}

log "starting $IMAGE (ports $PORT/$TLS_PORT, admin $ADMIN_PORT)"
start_container
pass "/readyz answers 200 from the container"
[ "$(http_code /healthz)" = 200 ] && pass "/healthz answers 200" || fail "/healthz: $(http_code /healthz)"

uid=$(podman exec "$NAME" awk '/^Uid:/ {print $2}' /proc/1/status)
[ "$uid" = "$IMAGE_UID" ] && pass "the daemon runs as uid $uid" || fail "the daemon runs as uid '$uid', not $IMAGE_UID"
if podman healthcheck run "$NAME" >"$WORK/hc.log" 2>&1; then
    pass "the image's HEALTHCHECK (blindrelay-admin health) passes"
else
    fail "HEALTHCHECK: $(tail -1 "$WORK/hc.log")"
fi
podman exec "$NAME" /usr/local/bin/blindrelay-admin ready && pass "blindrelay-admin ready inside the container" ||
    fail "blindrelay-admin ready failed inside the container"
if podman exec "$NAME" sh -c 'test -e /usr/lib/x86_64-linux-gnu/libsrtp2.so.1 || ls /usr/local/bin | grep -q bench'; then
    fail "the runtime image holds libsrtp2 or the bench"
else
    pass "no libsrtp2, no bench in the image"
fi

spawn "$WORK/peer.log" turnutils_peer -L 127.0.0.1 -p "$PEER_PORT"

# run_uclient LABEL PORT uclient-args...: 4 clients x 50 messages
run_uclient() {
    local label=$1 port=$2 out=$WORK/uclient-$1.log rc
    shift 2
    timeout 90 "${UCLIENT[@]}" -n 50 -m 4 -l 170 -z 5 -e 127.0.0.1 -r "$PEER_PORT" -p "$port" \
        -u container-rest -W "$SECRET" "$@" 127.0.0.1 >"$out" 2>&1
    rc=$?
    check_uclient_log "$label" "$out" "$rc"
}
run_uclient udp "$PORT"
run_uclient tcp "$PORT" -t
run_uclient tls "$TLS_PORT" -t -S

# uclient leaves its UDP allocations to expire (10 min): a new container
# for the drain, where only the TCP relay below holds allocations
podman kill --signal INT "$NAME" >/dev/null && podman wait "$NAME" >/dev/null
start_container
log "podman stop --time 20 during a TCP relay"
# 2 clients x 300 messages 20 ms apart: about 6 s of relaying
spawn "$WORK/uclient-drain.log" timeout 60 "${UCLIENT[@]}" -n 300 -m 2 -l 170 -z 20 -e 127.0.0.1 \
    -r "$PEER_PORT" -p "$PORT" -t -u container-rest -W "$SECRET" 127.0.0.1
UCLIENT_PID=$LAST_PID
for _ in $(seq 100); do
    grep -q 'tot_recv_msgs=[1-9]' "$WORK/uclient-drain.log" && break
    sleep 0.1
done
t0=$SECONDS
spawn "$WORK/stop.log" podman stop --time 20 "$NAME"
STOP_PID=$LAST_PID
ready=
for _ in $(seq 30); do
    ready=$(http_code /readyz)
    [ "$ready" = 503 ] && break
    sleep 0.1
done
[ "$ready" = 503 ] && pass "/readyz turned 503 once stopping" || fail "/readyz answered '$ready' while stopping"
wait "$UCLIENT_PID"
check_uclient_log drain-tcp "$WORK/uclient-drain.log" $?
wait "$STOP_PID"
elapsed=$((SECONDS - t0))
code=$(podman inspect --format '{{.State.ExitCode}}' "$NAME")
podman logs "$NAME" >"$WORK/container.log" 2>&1
# before drain-timeout (15 s): it left when the relay's allocations ended
if [ "$code" = 0 ] && [ "$elapsed" -lt 15 ]; then
    pass "the container exited with status 0 after $elapsed s (drain-timeout 15 s, grace 20 s)"
else
    fail "the container exited with status $code after $elapsed s (drain-timeout 15 s, grace 20 s)"
fi
if grep -q 'SIGTERM: draining' "$WORK/container.log" && grep -q 'drained: no allocations left' "$WORK/container.log"; then
    pass "its log shows the drain and the last allocation ending"
else
    fail "the log shows no drain:"
    tail -8 "$WORK/container.log" | sed 's/^/    /'
fi
finish
