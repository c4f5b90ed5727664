# Drain mode, for rolling restarts and scale-in:
#  - SIGUSR1 drains: /readyz answers 503 (/healthz stays 200), the
#    blindrelay_draining gauge is 1, a new Allocate gets 300 Try Alternate
#    naming alternate-server (Chromium following it: test_chromium's
#    "redirect" run), Binding still works, and a relay that was
#    running (turnutils_uclient over UDP) finishes with nothing lost;
#  - SIGTERM with drain-timeout: the daemon keeps serving the allocations it
#    holds (a TCP relay loses nothing), refuses new ones with 508 (no
#    alternate-server), and exits 0 once the last allocation has ended;
#  - drain-timeout reached with allocations left: it exits then, status 0;
#  - a second SIGTERM during the drain stops it at once.
# blindrelay only. Ports 61100-61199, relay ports 64400-64499.
source "$(dirname "$0")/lib.sh"

if [ "$BR_TEST_SERVER" != blindrelay ]; then
    echo "[$TEST_NAME] blindrelay-specific; nothing to do for $BR_TEST_SERVER"
    exit 0
fi
need "$BUILD/blindrelay" "$TESTCLIENT" turnutils_uclient turnutils_peer curl

PORT=$(pick_stream_port 61100)
ADMIN_PORT=$(pick_stream_port $((PORT + 1)))
PEER_PORT=$(pick_port $((ADMIN_PORT + 1)))
SERVER=127.0.0.1:$PORT
ADMIN=http://127.0.0.1:$ADMIN_PORT
ALTERNATE=127.0.0.9:3478
COMMON=(--relay-ip 127.0.0.1 --relay-ports 64400-64499 --realm drain.test
    --allow-peer 127.0.0.0/8 --user drainer:drain-pass)

spawn "$WORK/peer.log" turnutils_peer -L 127.0.0.1 -p "$PEER_PORT"

# uclient_bg LOG [flags]: a relay through the server in the background
# (2 clients, 50 ms apart; -n messages), sets UCLIENT_PID.
uclient_bg() {
    local out=$1
    shift
    spawn "$out" timeout 60 turnutils_uclient -m 2 -l 170 -z 50 -e 127.0.0.1 -r "$PEER_PORT" \
        -p "$PORT" -u drainer -w drain-pass "$@" 127.0.0.1
    UCLIENT_PID=$LAST_PID
    for _ in $(seq 100); do
        grep -q 'tot_recv_msgs=[1-9]' "$out" && return 0
        sleep 0.1
    done
    fail "the uclient relay did not start within 10 s"
}

http_code() { curl -s -o /dev/null -m 2 -w '%{http_code}' "$ADMIN$1"; }
metric() { curl -s -m 2 "$ADMIN/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
# settle "CMD ARG" VALUE: waits (at most 5 s) until CMD ARG prints VALUE
settle() {
    for _ in $(seq 50); do
        [ "$($1)" = "$2" ] && return 0
        sleep 0.1
    done
}

# wait_exit SECONDS: true once the server has exited (status in EXIT_RC,
# a sanitizer report counted as a failure).
wait_exit() {
    for _ in $(seq $(($1 * 10))); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            wait "$SERVER_PID"
            EXIT_RC=$?
            SERVER_PID=
            if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$SERVER_LOG"; then
                fail "sanitizer report in the server output"
            fi
            return 0
        fi
        sleep 0.1
    done
    return 1
}

log "SIGUSR1: drain with an alternate server"
# server_start turns the admin endpoint off; this part needs it
spawn "$WORK/usr1.log" "$BUILD/blindrelay" --listen "$SERVER" --admin-listen "127.0.0.1:$ADMIN_PORT" \
    "${COMMON[@]}" --alternate-server "$ALTERNATE"
SERVER_PID=$LAST_PID
SERVER_LOG=$WORK/usr1.log
settle "http_code /readyz" 200
[ "$(http_code /readyz)" = 200 ] && pass "before the drain: /readyz 200" ||
    fail "before the drain: /readyz $(http_code /readyz)"
uclient_bg "$WORK/uclient-usr1.log" -n 120
kill -USR1 "$SERVER_PID"
settle "metric blindrelay_draining" 1
[ "$(metric blindrelay_draining)" = 1 ] && pass "SIGUSR1: blindrelay_draining 1" ||
    fail "SIGUSR1: blindrelay_draining is '$(metric blindrelay_draining)'"
[ "$(http_code /readyz)" = 503 ] && pass "draining: /readyz 503" ||
    fail "draining: /readyz $(http_code /readyz), expected 503"
[ "$(http_code /healthz)" = 200 ] && pass "draining: /healthz 200" ||
    fail "draining: /healthz $(http_code /healthz), expected 200"
sleep 1.1 # workers take the flag at their next tick
out=$(timeout 20 "$TESTCLIENT" allocate --server "$SERVER" --user drainer --password drain-pass \
    --expect 300 2>&1)
if echo "$out" | grep -q "^result=pass .* alternate=$ALTERNATE\$"; then
    pass "draining: new Allocate: $(echo "$out" | grep '^result=')"
else
    fail "draining: new Allocate should get 300 naming $ALTERNATE: $out"
fi
expect_client "draining: Binding still answered" binding --server "$SERVER"
wait "$UCLIENT_PID"
check_uclient_log "draining: the relay that was running" "$WORK/uclient-usr1.log" $?
code300=$(curl -s -m 2 "$ADMIN/metrics" |
    awk '$1 == "blindrelay_error_responses_total{code=\"300\"}" {print $2}')
[ "${code300:-0}" -ge 1 ] && pass "metrics: error_responses_total{code=\"300\"} $code300" ||
    fail "metrics: no 300 counted ('$code300')"
grep -q "SIGUSR1: draining" "$SERVER_LOG" && pass "log: the drain is announced" ||
    fail "log: no drain line"
server_stop

log "SIGTERM with drain-timeout 30: exits when the last allocation ends"
server_start term "$SERVER" "${COMMON[@]}" --drain-timeout 30
uclient_bg "$WORK/uclient-term.log" -t -n 100
kill -TERM "$SERVER_PID"
sleep 1.5
if kill -0 "$SERVER_PID" 2>/dev/null; then
    pass "SIGTERM: still serving the TCP relay it holds"
else
    fail "SIGTERM: exited although a relay held allocations"
fi
expect_client "SIGTERM drain: new Allocate refused (508, no alternate-server)" allocate \
    --server "$SERVER" --user drainer --password drain-pass --expect 508
wait "$UCLIENT_PID"
check_uclient_log "SIGTERM drain: the TCP relay that was running" "$WORK/uclient-term.log" $?
t0=$(date +%s.%N)
if wait_exit 5; then
    took=$(echo "$(date +%s.%N) - $t0" | bc)
    [ "$EXIT_RC" -eq 0 ] && grep -q "drained: no allocations left" "$SERVER_LOG" &&
        pass "SIGTERM drain: exited $(printf %.2f "$took") s after the relay ended, status 0" ||
        fail "SIGTERM drain: status $EXIT_RC, log: $(tail -2 "$SERVER_LOG")"
else
    fail "SIGTERM drain: still running 5 s after the last allocation ended"
    server_stop
fi

log "SIGTERM with drain-timeout 2 and an allocation that stays"
server_start timeout "$SERVER" "${COMMON[@]}" --drain-timeout 2
uclient_bg "$WORK/uclient-timeout.log" -n 400
t0=$(date +%s.%N)
kill -TERM "$SERVER_PID"
if wait_exit 6; then
    took=$(echo "$(date +%s.%N) - $t0" | bc)
    if [ "$EXIT_RC" -eq 0 ] && grep -q "drain-timeout reached with [1-9]" "$SERVER_LOG" &&
        [ "$(echo "$took >= 1.5 && $took < 4" | bc)" = 1 ]; then
        pass "drain-timeout: exited after $(printf %.2f "$took") s with allocations left, status 0"
    else
        fail "drain-timeout: status $EXIT_RC after $(printf %.2f "$took") s; log: $(tail -1 "$SERVER_LOG")"
    fi
else
    fail "drain-timeout 2: still running after 6 s"
    server_stop
fi
kill "$UCLIENT_PID" 2>/dev/null

log "a second SIGTERM during the drain stops at once"
server_start again "$SERVER" "${COMMON[@]}" --drain-timeout 60
uclient_bg "$WORK/uclient-again.log" -n 400
kill -TERM "$SERVER_PID"
sleep 0.5
kill -0 "$SERVER_PID" 2>/dev/null || fail "exited on the first SIGTERM despite drain-timeout"
kill -TERM "$SERVER_PID"
if wait_exit 3; then
    [ "$EXIT_RC" -eq 0 ] && pass "second SIGTERM: exited at once, status 0" ||
        fail "second SIGTERM: status $EXIT_RC"
else
    fail "second SIGTERM: still running after 3 s"
    server_stop
fi
kill "$UCLIENT_PID" 2>/dev/null

# The drain and stop lines give counts only: no client address, port or
# username in anything the servers printed.
own_lines_removed() {
    grep -v -e '^blindrelay: listening' -e '^blindrelay: relay:' -e '^blindrelay: admin:' "$1"
}
leaks=0
for f in "$WORK"/usr1.log "$WORK"/term.log "$WORK"/timeout.log "$WORK"/again.log; do
    # the startup lines name the server's own addresses; nothing else may
    if own_lines_removed "$f" | grep -q -e drainer -e '127\.0\.0\.1'; then
        leaks=$((leaks + 1))
        own_lines_removed "$f" | grep -e drainer -e '127\.0\.0\.1' | head -2 | sed 's/^/    /'
    fi
done
[ $leaks -eq 0 ] && pass "server output: no username or client address in any of the 4 logs" ||
    fail "server output names a client in $leaks log(s)"

finish
