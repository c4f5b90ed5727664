# TURN over IPv6 (RFC 8656, RFC 6156): blindrelay listens on [::1].
# coturn's turnutils_uclient asks for an IPv6 relay (-x,
# REQUESTED-ADDRESS-FAMILY) and relays to a peer on ::1 with channels, Send
# indications and client to client; the peer being IPv6 proves the relay is
# (another family is refused with 443). An IPv6 client also gets an IPv4
# relay to a peer on 127.0.0.1. br-testclient checks Binding and a full
# relay over IPv6, and 443 for an IPv6 peer on an IPv4 relay. Without
# --allow-peer ::1/128 the IPv6 loopback peer is refused (403).
# No packet may be lost. Ports 62600-62699, relay ports 63800-63899.
source "$(dirname "$0")/lib.sh"

need "$TESTCLIENT" turnutils_uclient turnutils_peer
[ "$BR_TEST_SERVER" = coturn ] || need "$BUILD/blindrelay"

if ! ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128'; then
    log "SKIP: this host has no IPv6 loopback address (::1)"
    exit 0
fi

PORT=$(pick_port 62600)
PEER6_PORT=$(pick_port $((PORT + 1)))
PEER4_PORT=$(pick_port $((PEER6_PORT + 1)))
USER=brtest6
PASS=brtest6-pass-$$
MSGS=50
CLIENTS=2

spawn "$WORK/peer6.log" turnutils_peer -L ::1 -p "$PEER6_PORT"
spawn "$WORK/peer4.log" turnutils_peer -L 127.0.0.1 -p "$PEER4_PORT"

# run_uclient LABEL PEER_IP PEER_PORT uclient-args...: relays through the
# server on [::1]; asserts on the summary lines of turnutils_uclient 4.6.1
# (as test_uclient_udp.sh does): everything sent came back, 0 lost.
run_uclient() {
    local label=$1 peer_ip=$2 peer_port=$3 out=$WORK/uclient-$1.log rc
    shift 3
    timeout 90 turnutils_uclient -n $MSGS -m $CLIENTS -l 170 -z 5 -e "$peer_ip" -r "$peer_port" \
        -p "$PORT" -u "$USER" -w "$PASS" "$@" ::1 >"$out" 2>&1
    rc=$?
    check_uclient_log "$label" "$out" "$rc"
}

# --allow-peer 127.0.0.0/8 also makes lib.sh give coturn --allow-loopback-peers
COMMON=(--relay-ip ::1 --relay-ip 127.0.0.1 --relay-ports 63800-63899 --realm blindrelay.test
    --user "$USER:$PASS" --allow-peer 127.0.0.0/8)

log "IPv6 listener (server: $BR_TEST_SERVER, port $PORT, peers $PEER6_PORT $PEER4_PORT)"
server_start v6 "[::1]:$PORT" "${COMMON[@]}" --allow-peer ::1/128
expect_client "binding over IPv6" binding --server "[::1]:$PORT"
run_uclient v6-relay-channels ::1 "$PEER6_PORT" -x
run_uclient v6-relay-send-indications ::1 "$PEER6_PORT" -x -s
run_uclient v6-relay-client-to-client ::1 "$PEER6_PORT" -x -y
run_uclient v4-relay-for-v6-client 127.0.0.1 "$PEER4_PORT"
expect_client "relay over IPv6 (IPv4 relay, channels and Send)" relay \
    --server "[::1]:$PORT" --user "$USER" --password "$PASS" --count 20
expect_client "IPv6 peer on an IPv4 relay: 443" allocate --server "[::1]:$PORT" \
    --user "$USER" --password "$PASS" --peer "[::1]:$PEER6_PORT" --expect 443
server_stop

if [ "$BR_TEST_SERVER" = coturn ]; then
    log "(coturn: default-denied ::1 not checked: --allow-loopback-peers covers it)"
    finish
fi
log "::1 is a default-denied peer"
server_start v6-default "[::1]:$PORT" "${COMMON[@]}"
out=$WORK/uclient-denied.log
if timeout 60 turnutils_uclient -n 5 -m 1 -l 170 -e ::1 -r "$PEER6_PORT" -p "$PORT" \
    -u "$USER" -w "$PASS" -x ::1 >"$out" 2>&1; then
    fail "v6-loopback-peer-denied: turnutils_uclient relayed to ::1 without --allow-peer"
elif grep -q 'error 403' "$out"; then
    pass "v6-loopback-peer-denied: 403"
else
    fail "v6-loopback-peer-denied: failed, but not with 403"
    tail -3 "$out" | sed 's/^/    /'
fi
server_stop

finish
