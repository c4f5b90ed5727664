# coturn's turnutils_uclient relays through the server over UDP: with
# channels, with Send indications (-s), client to client (-y), with a static
# user and with TURN REST credentials (-W). No packet may be lost and packets
# must actually come back. Ports 62000-62099, relay ports 63000-63199.
source "$(dirname "$0")/lib.sh"

need "$TESTCLIENT" turnutils_uclient turnutils_peer
[ "$BR_TEST_SERVER" = coturn ] || need "$BUILD/blindrelay"

PORT=$(pick_port 62000)
PEER_PORT=$(pick_port $((PORT + 1)))
USER=brtest
PASS=brtest-pass-1
SECRET=brtest-secret-$$
MSGS=100
CLIENTS=4

spawn "$WORK/peer.log" turnutils_peer -L 127.0.0.1 -p "$PEER_PORT"

# run_uclient LABEL uclient-args...: asserts on the summary lines of
# turnutils_uclient 4.6.1:
#   N: : start_mclient: tot_send_msgs=400, tot_recv_msgs=400
#   N: : Total lost packets 0 (0.000000%), total send dropped 0 (0.000000%)
run_uclient() {
    local label=$1 out=$WORK/uclient-$1.log rc
    shift
    timeout 90 turnutils_uclient -n $MSGS -m $CLIENTS -l 170 -z 5 -e 127.0.0.1 -r "$PEER_PORT" \
        -p "$PORT" "$@" 127.0.0.1 >"$out" 2>&1
    rc=$?
    check_uclient_log "$label" "$out" "$rc"
}

COMMON=(--relay-ip 127.0.0.1 --relay-ports 63000-63199 --realm blindrelay.test
    --allow-peer 127.0.0.0/8)

log "static user (server: $BR_TEST_SERVER, port $PORT, peer $PEER_PORT)"
server_start static "127.0.0.1:$PORT" "${COMMON[@]}" --user "$USER:$PASS"
run_uclient channels -u "$USER" -w "$PASS"
run_uclient send-indications -s -u "$USER" -w "$PASS"
run_uclient client-to-client -y -u "$USER" -w "$PASS"
run_uclient no-rtcp -c -u "$USER" -w "$PASS"
server_stop

log "TURN REST credentials"
server_start rest "127.0.0.1:$PORT" "${COMMON[@]}" --auth-secret "$SECRET"
run_uclient rest-channels -u brtest-rest -W "$SECRET"
run_uclient rest-send-indications -s -u brtest-rest -W "$SECRET"
# A wrong secret must not get through.
if timeout 60 turnutils_uclient -n 5 -m 1 -e 127.0.0.1 -r "$PEER_PORT" -p "$PORT" \
    -u brtest-rest -W wrong-secret 127.0.0.1 >"$WORK/uclient-wrong.log" 2>&1; then
    fail "rest-wrong-secret: turnutils_uclient succeeded with a wrong secret"
else
    pass "rest-wrong-secret: refused"
fi
server_stop

finish
