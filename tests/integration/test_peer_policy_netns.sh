# The host's own addresses are refused as peers whatever allow-peer says,
# and the set is kept current: in a network namespace made here, with
# allow-peer 10.99.0.0/16, a relay to 10.99.0.5 is permitted; once
# 10.99.0.5 is added to an interface of the host, within 5 s a new
# CreatePermission to it gets 403 and the running relay to it stops (a
# socket bound there beforehand, with IP_FREEBIND, receives nothing).
# Needs root (ip netns). blindrelay only. Ports 61600-61699 (in the
# namespace), relay ports 64550-64599.
source "$(dirname "$0")/lib.sh"

if [ "$BR_TEST_SERVER" != blindrelay ]; then
    echo "[$TEST_NAME] blindrelay-specific; nothing to do for $BR_TEST_SERVER"
    exit 0
fi
[ "$(id -u)" -eq 0 ] || die "needs root (ip netns add)"
need "$BUILD/blindrelay" "$PYTHON" ip

NS=br-pol-$$
netns_cleanup() {
    lib_cleanup
    ip netns del "$NS" 2>/dev/null
}
trap netns_cleanup EXIT

ip netns add "$NS" || die "cannot create network namespace $NS"
in_ns() { ip netns exec "$NS" "$@"; }
in_ns ip link set lo up
# a veth pair inside the namespace: 10.99.0.5 is on-link behind v0 (a
# static neighbour, so no ARP), where nothing answers
in_ns ip link add v0 type veth peer name v1 || die "cannot create a veth pair"
in_ns ip link set v0 up
in_ns ip link set v1 up
in_ns ip addr add 10.99.0.1/24 dev v0
in_ns ip neigh add 10.99.0.5 lladdr 02:00:00:00:00:05 dev v0

PORT=61600
ADMIN_PORT=61601
PEER_PORT=61602
SERVER=127.0.0.1:$PORT
USER_NAME=pol
USER_PASS=pol-pass

SERVER_LOG=$WORK/server.log
spawn "$SERVER_LOG" ip netns exec "$NS" "$BUILD/blindrelay" --listen "$SERVER" \
    --relay-ip 10.99.0.1 --relay-ports 64550-64599 --realm policy.test \
    --allow-peer 10.99.0.0/16 --user "$USER_NAME:$USER_PASS" --threads 2 \
    --admin-listen "127.0.0.1:$ADMIN_PORT"
SERVER_PID=$LAST_PID
for _ in $(seq 50); do
    in_ns "$TESTCLIENT" binding --server "$SERVER" --timeout 1 >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || die "blindrelay exited at startup: $(tail -5 "$SERVER_LOG")"
    sleep 0.1
done

log "namespace $NS: relay 10.99.0.1, peer 10.99.0.5 (not an address of the host yet)"
out=$WORK/driver.log
timeout 60 ip netns exec "$NS" "$PYTHON" "$(dirname "$0")/peer_policy.py" revoke \
    --server "$SERVER" --user "$USER_NAME" --password "$USER_PASS" \
    --metrics "http://127.0.0.1:$ADMIN_PORT/metrics" --peer "10.99.0.5:$PEER_PORT" --within 5 \
    --action "ip addr add 10.99.0.5/32 dev v1" >"$out" 2>&1
rc=$?
while IFS= read -r line; do
    case $line in
    ok:*) pass "${line#ok: }" ;;
    FAIL:*) fail "${line#FAIL: }" ;;
    *) echo "    $line" ;;
    esac
done <"$out"
[ $rc -eq 0 ] || [ "$FAILURES" -gt 0 ] || fail "peer_policy.py exited with $rc"
grep -q "host addresses changed" "$SERVER_LOG" || fail "no 'host addresses changed' line in the log"

server_stop
finish
