# TURN over TCP and TLS against clients that misbehave (stream_abuse.py),
# while well-behaved relays (turnutils_uclient over UDP and over TCP from
# 127.0.0.3) keep running beside them and must lose nothing:
#  - framing: a request in 1-byte writes is answered, two requests in one
#    write get two answers; a first byte that is neither STUN nor
#    ChannelData, or a STUN length not a multiple of 4, closes that
#    connection only;
#  - deadlines (--idle-timeout 2, --handshake-timeout 2): a never-completed
#    4000-byte frame, a silent connection, a frame trickled one byte every
#    0.5 s, a TLS connection without a ClientHello or with half of one are
#    all closed 2 to 4 s after they opened: bytes do not extend a deadline;
#  - caps: --max-connections-per-ip 5 (the 6th from 127.0.0.1 is closed at
#    once, 127.0.0.2 is still served, slots come back on close), and in a
#    second run --max-connections 8 over several source addresses;
#  - max-unauth-frame: 600 connections from 20 addresses, each announcing
#    a 65532-byte frame (and sending 60000 bytes of it) before any
#    allocation, are closed within 1 s and raise the server's RSS by less
#    than 10 MiB (it was +51 MiB under ASan before the limit); a connection
#    with an allocation may still send an 8 KiB request;
#  - closing a connection frees its allocation at once: with a one-port
#    relay range, a new Allocate succeeds right after the close.
# blindrelay only (coturn has no such keys). Ports 62450-62499, relay ports
# 63700-63750.
source "$(dirname "$0")/lib.sh"

if [ "$BR_TEST_SERVER" != blindrelay ]; then
    echo "[$TEST_NAME] blindrelay-specific; nothing to do for $BR_TEST_SERVER"
    exit 0
fi
need "$BUILD/blindrelay" "$TESTCLIENT" "$PYTHON" turnutils_uclient turnutils_peer openssl curl

HELPER=$(dirname "$0")/stream_abuse.py
PORT=$(pick_stream_port 62450)
TLS_PORT=$(pick_stream_port $((PORT + 1)))
PEER_PORT=$(pick_port $((TLS_PORT + 1)))
# not PEER_PORT + 1: turnutils_uclient sends RTCP to the peer port + 1, and the
# admin port is refused as a peer
ADMIN_PORT=$(pick_stream_port $((PEER_PORT + 5)))
USER=brabuse
PASS=brabuse-pass-$$
S=(--server "127.0.0.1:$PORT")

make_cert server abuse.test
spawn "$WORK/peer.log" turnutils_peer -L 127.0.0.1 -p "$PEER_PORT"

COMMON=(--relay-ip 127.0.0.1 --realm blindrelay.test --allow-peer 127.0.0.0/8 --user "$USER:$PASS")

# abuse LABEL CHECK [options]: runs one check of the helper, each of its
# lines becomes an ok/FAIL of this test.
abuse() {
    local label=$1 out line
    shift
    out=$(timeout 50 "$PYTHON" "$HELPER" "$@" 2>&1)
    while IFS= read -r line; do
        case $line in
        ok:*) pass "$label: ${line#ok: }" ;;
        FAIL:*) fail "$label: ${line#FAIL: }" ;;
        *) [ -n "$line" ] && fail "$label: $line" ;;
        esac
    done <<<"$out"
}

# Background relays that must lose nothing while the abuse goes on: UDP
# (2 clients) and TCP from 127.0.0.3 (1 client, 1 connection: -c, no RTCP),
# 480 messages each 25 ms apart: ~12 s, over twice as long as the longest
# abuse run here (check_witnesses fails when a witness ended first).
start_witnesses() {
    spawn "$WORK/witness-udp-$1.log" timeout 60 turnutils_uclient -n 480 -m 2 -l 170 -z 25 \
        -e 127.0.0.1 -r "$PEER_PORT" -p "$PORT" -u "$USER" -w "$PASS" 127.0.0.1
    WITNESS_UDP=$LAST_PID
    spawn "$WORK/witness-tcp-$1.log" timeout 60 turnutils_uclient -t -c -L 127.0.0.3 -n 480 -m 1 \
        -l 170 -z 25 -e 127.0.0.1 -r "$PEER_PORT" -p "$PORT" -u "$USER" -w "$PASS" 127.0.0.1
    WITNESS_TCP=$LAST_PID
    # wait (bounded) until both relay: uclient has then closed its probe
    # connection and holds exactly one TCP connection
    for _ in $(seq 100); do
        grep -q 'tot_recv_msgs=[1-9]' "$WORK/witness-tcp-$1.log" &&
            grep -q 'tot_recv_msgs=[1-9]' "$WORK/witness-udp-$1.log" && return
        sleep 0.1
    done
    fail "$1: the witnesses did not start relaying within 10 s"
}

witness_conns() {
    ss -Htn state established "( dport = :$PORT and src 127.0.0.3 )" 2>/dev/null
}

# check_witnesses RUN: both witnesses must still have been running when the
# abuse ended (so they ran throughout), then finish with nothing lost.
check_witnesses() {
    local pid kind rc
    for kind in udp tcp; do
        if [ $kind = udp ]; then pid=$WITNESS_UDP; else pid=$WITNESS_TCP; fi
        kill -0 "$pid" 2>/dev/null ||
            fail "$1: the $kind witness ended before the abuse did (make it longer)"
    done
    for kind in udp tcp; do
        if [ $kind = udp ]; then pid=$WITNESS_UDP; else pid=$WITNESS_TCP; fi
        wait "$pid"
        rc=$?
        check_uclient_log "$1: $kind relay alongside" "$WORK/witness-$kind-$1.log" "$rc"
    done
}

log "run 1: --idle-timeout 2 --handshake-timeout 2 --max-connections-per-ip 5 (tcp $PORT, tls $TLS_PORT)"
server_start_stream deadlines "127.0.0.1:$PORT" "127.0.0.1:$TLS_PORT" "$WORK/server.pem" \
    "$WORK/server.key" "${COMMON[@]}" --relay-ports 63700-63749 \
    --idle-timeout 2 --handshake-timeout 2 --max-connections-per-ip 5
start_witnesses run1
abuse framing framing "${S[@]}" --tls "127.0.0.1:$TLS_PORT"
expect_client "UDP relay after the framing abuse" relay "${S[@]}" --user "$USER" --password "$PASS" --count 10
abuse deadlines timeouts "${S[@]}" --tls "127.0.0.1:$TLS_PORT" --idle 2 --handshake 2 \
    --user "$USER" --password "$PASS"
expect_client "UDP relay after the deadline abuse" relay "${S[@]}" --user "$USER" --password "$PASS" --count 10
abuse per-ip-cap cap-ip "${S[@]}" --per-ip 5 --bind 127.0.0.1 --other 127.0.0.2
expect_client "UDP relay after the per-address cap" relay "${S[@]}" --user "$USER" --password "$PASS" --count 10
check_witnesses run1
server_stop

log "run 2: --max-connections 8"
server_start_stream total-cap "127.0.0.1:$PORT" "127.0.0.1:$TLS_PORT" "$WORK/server.pem" \
    "$WORK/server.key" "${COMMON[@]}" --relay-ports 63700-63749 --max-connections 8
start_witnesses run2
EXISTING=$(witness_conns | wc -l)
[ "$EXISTING" -eq 1 ] || fail "run2: expected 1 witness TCP connection, found $EXISTING"
abuse total-cap cap-total "${S[@]}" --max 8 --existing "$EXISTING"
expect_client "UDP relay at the connection cap" relay "${S[@]}" --user "$USER" --password "$PASS" --count 10
check_witnesses run2
server_stop

log "run 3: max-unauth-frame (default 4096): 600 connections announcing 65532-byte frames"
server_start_stream oversize "127.0.0.1:$PORT" "127.0.0.1:$TLS_PORT" "$WORK/server.pem" \
    "$WORK/server.key" "${COMMON[@]}" --relay-ports 63700-63749 --admin-listen "127.0.0.1:$ADMIN_PORT"
start_witnesses run3
abuse oversize oversize "${S[@]}" --tls "127.0.0.1:$TLS_PORT" --user "$USER" --password "$PASS" --pid "$SERVER_PID" \
    --count 600 --sources 20 --max-rss-mib 10
expect_client "UDP relay after the oversize frames" relay "${S[@]}" --user "$USER" --password "$PASS" --count 10
OVERSIZE=$(curl -s -m 2 "http://127.0.0.1:$ADMIN_PORT/metrics" |
    awk '$1 == "blindrelay_connections_oversize_closed_total" {print $2}')
if [ "${OVERSIZE:-0}" -ge 600 ]; then
    pass "oversize: blindrelay_connections_oversize_closed_total $OVERSIZE (>= 600)"
else
    fail "oversize: blindrelay_connections_oversize_closed_total ${OVERSIZE:-missing}, expected >= 600"
fi
check_witnesses run3
server_stop

log "run 4: closing a TCP connection frees its allocation (one relay port)"
server_start_stream one-port "127.0.0.1:$PORT" "127.0.0.1:$TLS_PORT" "$WORK/server.pem" \
    "$WORK/server.key" "${COMMON[@]}" --relay-ports 63750-63750
abuse alloc-free alloc-free "${S[@]}" --user "$USER" --password "$PASS"
server_stop

finish
