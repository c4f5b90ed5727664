# br-testclient drives the server through the error paths of RFC 8489 and
# RFC 8656 and a few good paths next to them: 401 for bad credentials, 400
# without REQUESTED-TRANSPORT, 442 for TCP over UDP, 438 for a tampered
# nonce, 437 for a second Allocate, 403 for denied peers, 508 when the relay
# port range is used up and the port freed again by Refresh LIFETIME 0, and
# garbage datagrams that must leave the server serving.
# Ports 62100-62199, relay ports 63200-63399.
source "$(dirname "$0")/lib.sh"

need "$TESTCLIENT"
[ "$BR_TEST_SERVER" = coturn ] || need "$BUILD/blindrelay"

PORT=$(pick_port 62100)
S=(--server "127.0.0.1:$PORT" --timeout 10)
U=(--user brneg --password brneg-pass)
# coturn keeps a deleted allocation's session (Refresh after it gets 0, not
# 437) and frees the relay port within about a second; blindrelay must do
# both at once.
if [ "$BR_TEST_SERVER" = coturn ]; then
    DELETED=(--refresh-again 0 --settle-ms 3000)
else
    DELETED=()
fi

# Garbage that must be dropped: not STUN, bad cookie, short header, a
# ChannelData on an unbound channel, a truncated attribute.
send_garbage() {
    local p
    for p in 'hello' '\x00\x01\x00\x00\x00\x00\x00\x00abcdefghijkl' '\x00\x01\x00' \
        '\x40\x00\x00\x04abcd' '\x00\x03\x00\x08\x21\x12\xa4\x42abcdefghijkl\x00\x19\x00\x10'; do
        # shellcheck disable=SC2059 # the escapes are the point
        printf "$p" >"/dev/udp/127.0.0.1/$PORT" 2>/dev/null
    done
}

log "long-term credentials (server: $BR_TEST_SERVER, port $PORT)"
server_start static "127.0.0.1:$PORT" --relay-ip 127.0.0.1 --relay-ports 63200-63299 \
    --realm blindrelay.test --allow-peer 127.0.0.0/8 --user brneg:brneg-pass
expect_client "binding" binding "${S[@]}"
expect_client "binding from 127.0.0.2" binding "${S[@]}" --bind 127.0.0.2
expect_client "allocate" allocate "${S[@]}" "${U[@]}"
expect_client "wrong password -> 401" allocate "${S[@]}" --user brneg --password nope --expect 401
expect_client "unknown user -> 401" allocate "${S[@]}" --user nobody --password x --expect 401
expect_client "no REQUESTED-TRANSPORT -> 400" allocate "${S[@]}" "${U[@]}" --no-transport --expect 400
expect_client "REQUESTED-TRANSPORT TCP -> 442" allocate "${S[@]}" "${U[@]}" --transport 6 --expect 442
expect_client "tampered nonce -> 438" allocate "${S[@]}" "${U[@]}" --tamper-nonce --expect 438
expect_client "second Allocate -> 437" allocate "${S[@]}" "${U[@]}" --twice --expect 437
expect_client "permission to 10.0.0.1 -> 403" allocate "${S[@]}" "${U[@]}" --peer 10.0.0.1:9 --expect 403
expect_client "permission to 127.0.0.1 (allowed)" allocate "${S[@]}" "${U[@]}" --peer 127.0.0.1:9
expect_client "relay ChannelData and Send/Data" relay "${S[@]}" "${U[@]}" --count 30
if [ "$BR_TEST_SERVER" = coturn ]; then
    log "skipping SHA-256 cases: coturn 4.6.1 offers no PASSWORD-ALGORITHMS"
else
    expect_client "allocate with SHA-256" allocate "${S[@]}" "${U[@]}" --sha256
    expect_client "relay with SHA-256" relay "${S[@]}" "${U[@]}" --sha256 --count 5
    expect_client "SHA-256, wrong password -> 401" allocate "${S[@]}" --user brneg \
        --password nope --sha256 --expect 401
fi
send_garbage
expect_client "still serving after garbage" allocate "${S[@]}" "${U[@]}"
server_stop

log "TURN REST credentials"
server_start rest "127.0.0.1:$PORT" --relay-ip 127.0.0.1 --relay-ports 63300-63349 \
    --realm blindrelay.test --allow-peer 127.0.0.0/8 --auth-secret brneg-secret
expect_client "REST allocate" allocate "${S[@]}" --secret brneg-secret --user alice
expect_client "REST relay" relay "${S[@]}" --secret brneg-secret --count 10
expect_client "REST expired -> 401" allocate "${S[@]}" --secret brneg-secret --rest-ttl -60 \
    --expect 401
expect_client "REST wrong secret -> 401" allocate "${S[@]}" --secret other-secret --expect 401
server_stop

log "one relay port, default peer policy"
server_start oneport "127.0.0.1:$PORT" --relay-ip 127.0.0.1 --relay-ports 63350-63350 \
    --realm blindrelay.test --user brneg:brneg-pass
expect_client "loopback peer denied by default -> 403" allocate "${S[@]}" "${U[@]}" \
    --peer 127.0.0.1:9 --expect 403
[ "$BR_TEST_SERVER" = coturn ] && sleep 2 # the previous allocation's port, see DELETED
expect_client "refresh LIFETIME 0 frees the port (508 before)" refresh-zero "${S[@]}" "${U[@]}" \
    --exhausted "${DELETED[@]}"
server_stop

if [ "$BR_TEST_SERVER" = blindrelay ]; then
    # Relay to relay: the server's own relay address on a relay port is an
    # allowed peer by default, but only while one of its relay sockets holds
    # that port; any other port of the range may be another local service,
    # like the one started here on 63352.
    log "relay addresses as peers, default peer policy"
    spawn "$WORK/service.log" turnutils_peer -L 127.0.0.1 -p 63352
    sleep 0.2
    server_start relayrange "127.0.0.1:$PORT" --relay-ip 127.0.0.1 --relay-ports 63351-63352 \
        --realm blindrelay.test --user brneg:brneg-pass
    expect_client "a local service inside the relay range -> 403" allocate "${S[@]}" "${U[@]}" \
        --peer 127.0.0.1:63352 --expect 403
    expect_client "own relayed address (held) as peer" allocate "${S[@]}" "${U[@]}" \
        --peer-self
    server_stop
fi

finish
