# Quotas and descriptor limits, one worker:
#  - the shipped user-quota (10) holds against TURN REST credentials of one
#    id minted afresh (a new expiry) for every Allocate: 10 succeed, the
#    11th and 12th get 486; another id has its own 10;
# and under a low file descriptor limit (prlimit --nofile):
#  - total-quota "auto" (the default) is derived from the limit: the startup
#    line gives it, it follows the documented formula, and that many
#    Allocates succeed before the next get 486, not 508: the quota runs out
#    before the descriptors do;
#  - with total-quota 0 (unlimited), Allocates past the limit get 508,
#    counted as blindrelay_allocate_failures_total{reason="fds"}; after a few
#    allocations end, a new one succeeds;
#  - TCP connections past the limit wait in the backlog without making the
#    worker spin on accept() (its CPU over 3 s stays small), the listener
#    rests (blindrelay_accept_paused_total), and once they close a new TCP
#    client is served.
# blindrelay only. Ports 61350-61399, relay ports 64700-64999.
source "$(dirname "$0")/lib.sh"

if [ "$BR_TEST_SERVER" != blindrelay ]; then
    echo "[$TEST_NAME] blindrelay-specific; nothing to do for $BR_TEST_SERVER"
    exit 0
fi
need "$BUILD/blindrelay" "$TESTCLIENT" "$PYTHON" prlimit curl

HELPER=$(dirname "$0")/fd_limits.py
PORT=$(pick_stream_port 61350)
ADMIN_PORT=$(pick_stream_port $((PORT + 1)))
COMMON=(--relay-ip 127.0.0.1 --realm blindrelay.test --user u:p --threads 1
    --relay-ports 64700-64999 --user-quota 0)

# Runs the helper; each of its lines becomes an ok/FAIL of this test. The
# "successes=N" line is kept in SUCCESSES.
helper() {
    local label=$1 out line
    shift
    SUCCESSES=
    out=$(timeout 120 "$PYTHON" "$HELPER" "$@" 2>&1)
    while IFS= read -r line; do
        case $line in
        ok:*) pass "$label: ${line#ok: }" ;;
        FAIL:*) fail "$label: ${line#FAIL: }" ;;
        successes=*) SUCCESSES=${line#successes=} ;;
        *) [ -n "$line" ] && fail "$label: $line" ;;
        esac
    done <<<"$out"
}

metric() {
    curl -s -m 2 "http://127.0.0.1:$ADMIN_PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'
}

# limited N NAME flags...: server_start under an fd limit of N (soft = hard).
limited() {
    local name=$2
    export BR_NOFILE=$1
    shift 2
    server_start "$name" "127.0.0.1:$PORT" "${COMMON[@]}" "$@"
}

log "run 0: the shipped user-quota (10) against TURN REST credentials of one id"
# started here, not by server_start (which turns user-quota off for tests)
SERVER_LOG=$WORK/rest.log
spawn "$SERVER_LOG" "$BUILD/blindrelay" --listen "127.0.0.1:$PORT" --admin-listen "" \
    --relay-ip 127.0.0.1 --realm blindrelay.test --threads 1 --relay-ports 64700-64999 \
    --auth-secret rest-secret-$$
SERVER_PID=$LAST_PID
for _ in $(seq 50); do
    "$TESTCLIENT" binding --server "127.0.0.1:$PORT" --timeout 1 >/dev/null 2>&1 && break
    sleep 0.1
done
grep -q 'user-quota 10$' "$SERVER_LOG" || fail "no 'user-quota 10' in the startup summary"
helper rest-id allocate --server "127.0.0.1:$PORT" --secret "rest-secret-$$" --rest-id alice \
    --count 12 --expect-quota 10 --release 1
helper rest-other-id allocate --server "127.0.0.1:$PORT" --secret "rest-secret-$$" --rest-id bob \
    --count 10 --expect-quota 10
server_stop

log "run 1: nofile 256, total-quota auto (the default)"
LIMIT=256
BUILD_REAL=$BUILD
# server_start runs "$BUILD/blindrelay": a wrapper puts prlimit in front
mkdir -p "$WORK/bin"
cat >"$WORK/bin/blindrelay" <<WRAP
#!/bin/sh
exec prlimit --nofile=\${BR_NOFILE}:\${BR_NOFILE} "$BUILD_REAL/blindrelay" "\$@"
WRAP
chmod +x "$WORK/bin/blindrelay"
BUILD=$WORK/bin
limited $LIMIT derived
LINE=$(grep -m1 'total-quota' "$SERVER_LOG")
log "startup: ${LINE#blindrelay: }"
QUOTA=$(echo "$LINE" | sed -n 's/.*total-quota \([0-9]*\) (auto: \([0-9]*\) descriptors - \([0-9]*\) reserved - \([0-9]*\) for TCP\/TLS connections).*/\1 \2 \3 \4/p')
read -r Q FDS RES CONNS <<<"$QUOTA"
# the documented formula, one worker listening on one address (udp + tcp):
# reserve = 128 + workers * (2 + udp/tcp listeners + tls listeners)
# total = (fds - reserve) - min(max-connections, (fds - reserve) / 2)
WANT_RES=$((128 + 1 * (2 + 2)))
AVAIL=$((LIMIT - WANT_RES))
WANT=$((AVAIL - AVAIL / 2))
if [ "${FDS:-}" = "$LIMIT" ] && [ "${RES:-}" = "$WANT_RES" ] && [ "${Q:-}" = "$WANT" ] &&
    [ "$CONNS" = $((AVAIL / 2)) ]; then
    pass "total-quota derived from nofile $LIMIT: $Q (reserve $RES, $CONNS kept for connections)"
else
    fail "startup line '${LINE:-none}': expected total-quota $WANT from $LIMIT descriptors"
fi
helper derived allocate --server "127.0.0.1:$PORT" --count $((WANT + 5)) --expect-quota "$WANT" \
    --release 2
server_stop

log "run 2: nofile 128, total-quota 0 (unlimited): Allocates past the limit"
limited 128 fds --total-quota 0 --admin-listen "127.0.0.1:$ADMIN_PORT"
grep -q 'total-quota unlimited' "$SERVER_LOG" || fail "no 'total-quota unlimited' startup line"
helper fds allocate --server "127.0.0.1:$PORT" --count 160 --expect-508 --release 5
FDS_FAIL=$(metric 'blindrelay_allocate_failures_total{reason="fds"}')
PORTS_FAIL=$(metric 'blindrelay_allocate_failures_total{reason="ports"}')
E508=$(metric 'blindrelay_error_responses_total{code="508"}')
if [ -n "$SUCCESSES" ] && [ "${FDS_FAIL:-0}" -eq $((160 - SUCCESSES)) ] && [ "${FDS_FAIL:-0}" -gt 0 ] &&
    [ "${PORTS_FAIL:-x}" = 0 ] && [ "${E508:-0}" -eq "$FDS_FAIL" ]; then
    pass "blindrelay_allocate_failures_total{reason=\"fds\"} $FDS_FAIL = the 508s (ports: $PORTS_FAIL)"
else
    fail "allocate failures: fds=${FDS_FAIL:-missing} ports=${PORTS_FAIL:-missing} 508s=${E508:-missing}, successes ${SUCCESSES:-?} of 160"
fi
expect_client "Binding after the descriptors ran out" binding --server "127.0.0.1:$PORT"
server_stop

log "run 3: nofile 128: TCP connections past the limit"
limited 128 accept --admin-listen "127.0.0.1:$ADMIN_PORT" --idle-timeout 60
# the wrapper and prlimit exec: SERVER_PID is blindrelay itself
helper accept tcp-flood --server "127.0.0.1:$PORT" --pid "$SERVER_PID" --count 200 --sources 10 \
    --hold 3 --max-cpu 0.3 --recover 5
PAUSED=$(metric blindrelay_accept_paused_total)
if [ "${PAUSED:-0}" -gt 0 ]; then
    pass "blindrelay_accept_paused_total $PAUSED"
else
    fail "blindrelay_accept_paused_total ${PAUSED:-missing}, expected > 0"
fi
WARN=$(grep -c -i 'accept' "$SERVER_LOG")
[ "$WARN" -le 2 ] || fail "the server log has $WARN lines about accept (a spinning listener logs)"
server_stop

finish
