# The peer policy stays true while allocations run: a channel to another
# allocation's relayed address stops at once when that allocation ends (a
# policy drop), and a deny-peer added by SIGHUP ends the permissions and
# channels it covers within seconds (not only new ones, which get 403).
# Driven by peer_policy.py over TURN/UDP; the counters come from /metrics.
# blindrelay only. Ports 61500-61599, relay ports 64500-64549.
source "$(dirname "$0")/lib.sh"

if [ "$BR_TEST_SERVER" != blindrelay ]; then
    echo "[$TEST_NAME] blindrelay-specific; nothing to do for $BR_TEST_SERVER"
    exit 0
fi
need "$BUILD/blindrelay" "$PYTHON" curl

PORT=$(pick_port 61500)
ADMIN_PORT=$(pick_stream_port $((PORT + 1)))
PEER_PORT=$(pick_port $((ADMIN_PORT + 1)))
SERVER=127.0.0.1:$PORT
METRICS=http://127.0.0.1:$ADMIN_PORT/metrics
CONF=$WORK/blindrelay.conf
USER_NAME=pol
USER_PASS=pol-pass
DRIVER=$(dirname "$0")/peer_policy.py

write_conf() { # extra lines on stdin
    {
        echo "listen = $SERVER"
        echo "relay-ip = 127.0.0.1"
        echo "relay-ports = 64500-64549"
        echo "realm = policy.test"
        echo "allow-peer = 127.0.0.0/8"
        echo "user = $USER_NAME:$USER_PASS"
        echo "threads = 2"
        echo "admin-listen = 127.0.0.1:$ADMIN_PORT"
        cat
    } >"$CONF"
}

# driver LABEL CHECK [options]: one peer_policy.py run whose lines become
# this test's checks.
driver() {
    local label=$1 out=$WORK/$1.log
    shift
    timeout 60 "$PYTHON" "$DRIVER" "$@" --server "$SERVER" --user "$USER_NAME" \
        --password "$USER_PASS" --metrics "$METRICS" >"$out" 2>&1
    local rc=$?
    while IFS= read -r line; do
        case $line in
        ok:*) pass "$label: ${line#ok: }" ;;
        FAIL:*) fail "$label: ${line#FAIL: }" ;;
        *) echo "    $line" ;;
        esac
    done <"$out"
    [ $rc -eq 0 ] || [ "$FAILURES" -gt 0 ] || fail "$label: peer_policy.py exited with $rc"
}

write_conf </dev/null
SERVER_LOG=$WORK/server.log
spawn "$SERVER_LOG" "$BUILD/blindrelay" --config "$CONF"
SERVER_PID=$LAST_PID
for _ in $(seq 50); do
    "$TESTCLIENT" binding --server "$SERVER" --timeout 1 >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || die "blindrelay exited at startup: $(tail -5 "$SERVER_LOG")"
    sleep 0.1
done
wait_tcp "127.0.0.1:$ADMIN_PORT"

log "relay to relay ends with the allocation (server $SERVER, 2 workers)"
driver relay-ends relay-ends --count 50

log "deny-peer added by SIGHUP ends a running relay to that peer"
# the action appends the rule and reloads; the driver checks the rest
ACTION="printf 'deny-peer = 127.0.0.5\n' >>'$CONF' && kill -HUP $SERVER_PID"
driver reload-deny revoke --peer "127.0.0.5:$PEER_PORT" --peer-live --within 3 --action "$ACTION"
grep -q "credentials and peer rules reloaded" "$SERVER_LOG" || fail "no reload line in the log"

server_stop
finish
