# SIGHUP reloads the TLS certificate and key: while turnutils_uclient relays
# over TLS (-t -S) through a connection made with certificate A (CN=a.test),
# the files are replaced with certificate B and the server gets SIGHUP. New
# TLS connections must then see CN=b.test, the running relay must lose
# nothing, and stderr must say the certificate was reloaded. A broken key
# file, or a key that does not match the certificate, must not be taken:
# the server says it kept the previous certificate and keeps serving B.
# At start, a missing or unreadable certificate, a broken key or a
# mismatched pair stops blindrelay at once with a message naming cert/key.
# blindrelay only (coturn reloads differently). Ports 62500-62549, relay
# ports 63760-63799.
source "$(dirname "$0")/lib.sh"

if [ "$BR_TEST_SERVER" != blindrelay ]; then
    echo "[$TEST_NAME] blindrelay-specific; nothing to do for $BR_TEST_SERVER"
    exit 0
fi
need "$BUILD/blindrelay" "$TESTCLIENT" turnutils_uclient turnutils_peer openssl

PORT=$(pick_stream_port 62500)
TLS_PORT=$(pick_stream_port $((PORT + 1)))
PEER_PORT=$(pick_port $((TLS_PORT + 1)))
USER=brreload
PASS=brreload-pass-$$
TLS=127.0.0.1:$TLS_PORT
CERT=$WORK/live.pem
KEY=$WORK/live.key

make_cert a a.test
make_cert b b.test
cp "$WORK/a.pem" "$CERT"
cp "$WORK/a.key" "$KEY"
spawn "$WORK/peer.log" turnutils_peer -L 127.0.0.1 -p "$PEER_PORT"

# install NAME: puts $WORK/NAME.pem and .key in place the way a certificate
# manager does (write aside, then rename over the live files).
install_cert() {
    cp "$WORK/$1.pem" "$CERT.new" && mv -f "$CERT.new" "$CERT"
    cp "$WORK/$1.key" "$KEY.new" && mv -f "$KEY.new" "$KEY"
}

# hup_and_wait PATTERN: sends SIGHUP and waits (at most 5 s) for one more
# server log line matching PATTERN than there was before.
hup_and_wait() {
    local before
    before=$(grep -c -- "$1" "$SERVER_LOG")
    kill -HUP "$SERVER_PID"
    for _ in $(seq 50); do
        [ "$(grep -c -- "$1" "$SERVER_LOG")" -gt "$before" ] && return 0
        sleep 0.1
    done
    return 1
}

expect_subject() {
    local got
    got=$(tls_subject "$TLS")
    if [ "$got" = "subject=CN = $1" ]; then
        pass "$2: a new TLS connection sees CN=$1"
    else
        fail "$2: a new TLS connection sees '${got:-no certificate}', expected CN=$1"
    fi
}

log "TLS on $TLS, TCP/UDP on $PORT, peer $PEER_PORT"
server_start_stream reload "127.0.0.1:$PORT" "$TLS" "$CERT" "$KEY" --relay-ip 127.0.0.1 \
    --relay-ports 63760-63799 --realm blindrelay.test --allow-peer 127.0.0.0/8 --user "$USER:$PASS"
expect_subject a.test "before the reload"

# 2 clients x 300 messages, 20 ms apart: ~6 s of relaying over TLS.
spawn "$WORK/uclient-span.log" timeout 60 turnutils_uclient -t -S -n 300 -m 2 -l 170 -z 20 \
    -e 127.0.0.1 -r "$PEER_PORT" -p "$TLS_PORT" -u "$USER" -w "$PASS" 127.0.0.1
UCLIENT=$LAST_PID
# wait until it relays (its first receive report), then reload mid-stream
for _ in $(seq 100); do
    grep -q 'tot_recv_msgs=[1-9]' "$WORK/uclient-span.log" && break
    sleep 0.1
done
grep -q 'tot_recv_msgs=[1-9]' "$WORK/uclient-span.log" ||
    fail "turnutils_uclient over TLS did not start relaying within 10 s"
sleep 1
install_cert b
if hup_and_wait 'SIGHUP: certificate and key reloaded'; then
    pass "SIGHUP: stderr says 'certificate and key reloaded'"
else
    fail "SIGHUP: no 'certificate and key reloaded' line within 5 s"
    tail -3 "$SERVER_LOG" | sed 's/^/    /'
fi
expect_subject b.test "after the reload"
if kill -0 "$UCLIENT" 2>/dev/null; then
    pass "the reload happened while the TLS relay was running"
else
    fail "turnutils_uclient had already ended at the reload (make it longer)"
fi
wait "$UCLIENT"
check_uclient_log "TLS relay across the reload (connection made with a.test)" \
    "$WORK/uclient-span.log" $?

# A broken key, then a key that does not match: the previous one stays.
printf -- '-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n' >"$KEY.new"
mv -f "$KEY.new" "$KEY"
if hup_and_wait 'SIGHUP: keeping the previous certificate'; then
    pass "broken key: stderr says $(grep 'SIGHUP: keeping' "$SERVER_LOG" | tail -1 | cut -c1-120)"
else
    fail "broken key: no 'keeping the previous certificate' line within 5 s"
    tail -3 "$SERVER_LOG" | sed 's/^/    /'
fi
grep 'SIGHUP: keeping' "$SERVER_LOG" | tail -1 | grep -q 'key' ||
    fail "broken key: the message does not name the key"
expect_subject b.test "after the broken key"
cp "$WORK/a.pem" "$CERT.new" && mv -f "$CERT.new" "$CERT"
cp "$WORK/b.key" "$KEY.new" && mv -f "$KEY.new" "$KEY"
if hup_and_wait 'SIGHUP: keeping the previous certificate'; then
    pass "mismatched pair: stderr says $(grep 'SIGHUP: keeping' "$SERVER_LOG" | tail -1 | cut -c1-120)"
else
    fail "mismatched pair (cert a, key b): no 'keeping the previous certificate' line within 5 s"
fi
expect_subject b.test "after the mismatched pair"
# still serving TLS relays with B
timeout 60 turnutils_uclient -t -S -n 20 -m 1 -l 170 -z 5 -e 127.0.0.1 -r "$PEER_PORT" \
    -p "$TLS_PORT" -u "$USER" -w "$PASS" 127.0.0.1 >"$WORK/uclient-after.log" 2>&1
check_uclient_log "TLS relay after the refused reloads" "$WORK/uclient-after.log" $?
# and a good pair is taken again
install_cert a
hup_and_wait 'SIGHUP: certificate and key reloaded' ||
    fail "reload back to a.test: no 'reloaded' line within 5 s"
expect_subject a.test "after reloading a.test again"
server_stop

# start_fails LABEL PATTERN CERT KEY: blindrelay must exit non-zero within
# 5 s, saying PATTERN on stderr.
start_fails() {
    local label=$1 pattern=$2 err=$WORK/start-$1.err pid rc
    "$BUILD/blindrelay" --listen "127.0.0.1:$PORT" --tls-listen "$TLS" --cert "$3" --key "$4" \
        --admin-listen "" --relay-ip 127.0.0.1 --relay-ports 63760-63799 --user "$USER:$PASS" \
        >/dev/null 2>"$err" &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        fail "start with $label: still running after 5 s"
        kill -TERM "$pid"
        wait "$pid"
        return
    fi
    wait "$pid"
    rc=$?
    if [ $rc -eq 0 ]; then
        fail "start with $label: exit status 0"
    elif ! grep -qE -- "$pattern" "$err"; then
        fail "start with $label: exit status $rc, but stderr does not match '$pattern':"
        sed 's/^/    /' "$err"
    else
        pass "start with $label: exit status $rc: $(grep -E -- "$pattern" "$err" | head -1 | cut -c1-150)"
    fi
}

start_fails "mismatched pair" "key: .*(does not match|mismatch)" "$WORK/a.pem" "$WORK/b.key"
start_fails "missing cert" "cert: .*$WORK/missing.pem" "$WORK/missing.pem" "$WORK/a.key"
printf 'not a certificate\n' >"$WORK/garbage.pem"
start_fails "garbage cert" "cert: .*garbage.pem" "$WORK/garbage.pem" "$WORK/a.key"
start_fails "cert is a directory" "cert: " "$WORK" "$WORK/a.key"
start_fails "missing key" "key: .*$WORK/missing.key" "$WORK/a.pem" "$WORK/missing.key"
printf -- '-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n' >"$WORK/broken.key"
start_fails "broken key" "key: .*broken.key" "$WORK/a.pem" "$WORK/broken.key"

finish
