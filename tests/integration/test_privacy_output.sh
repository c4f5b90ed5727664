# blindrelay writes nothing per session (docs: DESIGN.md, privacy
# invariants). Sessions from a distinctive loopback address with distinctive
# usernames, through good and error paths, then the daemon's whole stdout and
# stderr (startup to SIGTERM) must not contain the client address, the
# client or peer ports, the usernames, the passwords or the shared secret.
# Against coturn this test is expected to fail: coturn logs sessions.
# Ports 62200-62299, relay ports 63400-63499.
source "$(dirname "$0")/lib.sh"

need "$TESTCLIENT" turnutils_uclient turnutils_peer
[ "$BR_TEST_SERVER" = coturn ] || need "$BUILD/blindrelay"

PORT=$(pick_port 62200)
PEER_PORT=$(pick_port $((PORT + 17)))
CLIENT_IP=127.3.4.5
STATIC_USER=zq7privacyuser
STATIC_PASS=zq7-static-password
REST_ID=zq7restid
SECRET=zq7-shared-secret-$$
S=(--server "127.0.0.1:$PORT" --bind "$CLIENT_IP" --timeout 10)
SECRETS=("$STATIC_PASS" "$SECRET")
NEEDLES=("$CLIENT_IP" "$STATIC_USER" "$REST_ID" "$PEER_PORT")

# Runs br-testclient and collects the client and peer ports it reports.
client() {
    local out
    out=$(timeout 60 "$TESTCLIENT" "$@" 2>&1) || fail "session did not run as expected: $out"
    for word in $out; do
        case $word in
        local=* | peers=*)
            for a in $(echo "${word#*=}" | tr ',' ' '); do
                NEEDLES+=("${a##*:}")
            done
            ;;
        esac
    done
}

spawn "$WORK/peer.log" turnutils_peer -L 127.0.0.1 -p "$PEER_PORT"
server_start privacy "127.0.0.1:$PORT" --relay-ip 127.0.0.1 --relay-ports 63400-63499 \
    --realm blindrelay.test --allow-peer 127.0.0.0/8 --user "$STATIC_USER:$STATIC_PASS" \
    --auth-secret "$SECRET"
log "sessions from $CLIENT_IP (server: $BR_TEST_SERVER, port $PORT)"

# Good paths: relay with static and REST credentials, uclient from the same address.
client relay "${S[@]}" --user "$STATIC_USER" --password "$STATIC_PASS" --count 5
client relay "${S[@]}" --secret "$SECRET" --user "$REST_ID" --count 5
AGAIN=()
[ "$BR_TEST_SERVER" = coturn ] && AGAIN=(--refresh-again 0) # see test_negative.sh
client refresh-zero "${S[@]}" --user "$STATIC_USER" --password "$STATIC_PASS" "${AGAIN[@]}"
timeout 60 turnutils_uclient -L "$CLIENT_IP" -u "$STATIC_USER" -w "$STATIC_PASS" -e 127.0.0.1 \
    -r "$PEER_PORT" -n 20 -m 2 -l 120 -z 5 -p "$PORT" 127.0.0.1 >"$WORK/uclient.log" 2>&1 ||
    fail "turnutils_uclient session failed"
# Error paths, where servers tend to log who failed.
client allocate "${S[@]}" --user "$STATIC_USER" --password wrong --expect 401
client allocate "${S[@]}" --user "$STATIC_USER" --password "$STATIC_PASS" --tamper-nonce \
    --expect 438
client allocate "${S[@]}" --secret "$SECRET" --user "$REST_ID" --rest-ttl -60 --expect 401
client allocate "${S[@]}" --secret wrong-secret --user "$REST_ID" --expect 401
client allocate "${S[@]}" --user "$STATIC_USER" --password "$STATIC_PASS" \
    --peer 10.0.0.1:9 --expect 403
client allocate "${S[@]}" --user "$STATIC_USER" --password "$STATIC_PASS" --transport 6 \
    --expect 442
server_stop

LOG=$SERVER_LOG
log "server output: $(wc -l <"$LOG") lines; looking for ${#NEEDLES[@]} session strings and ${#SECRETS[@]} secrets"
for n in "${NEEDLES[@]}"; do
    if grep -qwF -- "$n" "$LOG"; then
        fail "server output contains session data '$n':"
        grep -wF -m3 -- "$n" "$LOG" | sed 's/^/    /'
    fi
done
for n in "${SECRETS[@]}"; do
    if grep -qF -- "$n" "$LOG"; then
        fail "server output contains a password or secret"
    fi
done
[ "$FAILURES" -eq 0 ] && pass "no client address, port, username or secret in the server output"
finish
