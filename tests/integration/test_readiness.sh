# Capacity-aware readiness (ready-high, ready-low): with total-quota 40,
# ready-high 50 and ready-low 30, allocations held by blindrelay-bench idle
#  - below the high mark (16 of 40): /readyz 200, blindrelay_ready 1;
#  - at or above it (22 of 40): /readyz 503 naming the limit
#    ("not ready: allocations 55% of 40"), blindrelay_ready 0, and a relay
#    running all along (turnutils_uclient over UDP) loses nothing;
#  - back between the marks (16 of 40): still 503 (hysteresis);
#  - below the low mark: 200 again;
#  - SIGUSR1 still gives 503 ("not ready: draining");
# and a relay-ports range of 20 with ready-high 50: 10 ports held give 503
# naming relay_ports, and a SIGHUP raising the marks past it gives 200. blindrelay only. Ports 61200-61249, relay ports
# 64500-64619.
source "$(dirname "$0")/lib.sh"

if [ "$BR_TEST_SERVER" != blindrelay ]; then
    echo "[$TEST_NAME] blindrelay-specific; nothing to do for $BR_TEST_SERVER"
    exit 0
fi
BENCH=$BUILD/blindrelay-bench
need "$BUILD/blindrelay" "$BENCH" turnutils_uclient turnutils_peer curl

PORT=$(pick_stream_port 61200)
ADMIN_PORT=$(pick_stream_port $((PORT + 1)))
PEER_PORT=$(pick_port $((ADMIN_PORT + 1)))
SERVER=127.0.0.1:$PORT
ADMIN=http://127.0.0.1:$ADMIN_PORT
CRED=(--user ready:ready-pass)

spawn "$WORK/peer.log" turnutils_peer -L 127.0.0.1 -p "$PEER_PORT"

http_code() { curl -s -o /dev/null -m 2 -w '%{http_code}' "$ADMIN$1"; }
body() { curl -s -m 2 "$ADMIN$1"; }
metric() { curl -s -m 2 "$ADMIN/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
allocs() { metric 'blindrelay_capacity_used{resource="allocations"}'; }
# settle "CMD ARG" VALUE: waits (at most 10 s) until CMD ARG prints VALUE
settle() {
    for _ in $(seq 100); do
        [ "$($1)" = "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

# expect_ready CODE [BODY-REGEX] WHAT: /readyz answers CODE (and a body
# matching the regex), after the once-a-second evaluation has run.
# After 1.5 s (a state that must hold has held past an evaluation), then
# for up to 8.5 s more (a flip or a reload may take longer on a busy host).
expect_ready() {
    local want=$1 re=$2 what=$3 got text
    sleep 1.5
    for _ in $(seq 35); do
        got=$(http_code /readyz)
        text=$(body /readyz)
        [ "$got" = "$want" ] && echo "$text" | grep -qE "$re" && break
        sleep 0.25
    done
    if [ "$got" = "$want" ] && echo "$text" | grep -qE "$re"; then
        pass "$what: /readyz $got ($text)"
    else
        fail "$what: /readyz $got '$text', expected $want matching '$re'"
    fi
}

# hold NAME K: blindrelay-bench idle holding K allocations until killed;
# sets HOLD_PID once it printed ready with all K.
hold() {
    local out=$WORK/$1.log
    spawn "$out" timeout 120 "$BENCH" idle --server "$SERVER" --user ready --password ready-pass \
        --allocations "$2" --duration 0 --quiet
    HOLD_PID=$LAST_PID
    for _ in $(seq 200); do
        grep -q "^ready allocations=$2 failed=0" "$out" && return 0
        sleep 0.1
    done
    fail "blindrelay-bench idle did not hold $2 allocations within 20 s: $(tail -2 "$out")"
}

# release PID: ends a holder (it releases its allocations with Refresh 0).
release() {
    kill -TERM "$1"
    for _ in $(seq 100); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    wait "$1" 2>/dev/null
}

start() {
    local name=$1
    shift
    spawn "$WORK/$name.log" "$BUILD/blindrelay" --listen "$SERVER" \
        --admin-listen "127.0.0.1:$ADMIN_PORT" --relay-ip 127.0.0.1 --realm ready.test \
        --allow-peer 127.0.0.0/8 "${CRED[@]}" --user-quota 0 --threads 2 "$@"
    SERVER_PID=$LAST_PID
    SERVER_LOG=$WORK/$name.log
    settle "http_code /healthz" 200 || die "the admin endpoint did not answer within 10 s"
}

log "allocations: total-quota 40, ready-high 50, ready-low 30"
start quota --relay-ports 64500-64599 --total-quota 40 --ready-high 50 --ready-low 30
expect_ready 200 '^ok$' "no allocations"
[ "$(metric 'blindrelay_capacity_limit{resource="allocations"}')" = 40 ] &&
    pass "metrics: allocations limit 40" ||
    fail "metrics: allocations limit '$(metric 'blindrelay_capacity_limit{resource="allocations"}')'"
fds=$(metric 'blindrelay_capacity_used{resource="fds"}')
fd_limit=$(metric 'blindrelay_capacity_limit{resource="fds"}')
[ "${fds:-0}" -gt 3 ] && [ "${fd_limit:-0}" -gt "${fds:-0}" ] &&
    pass "metrics: fds $fds of $fd_limit" || fail "metrics: fds '$fds' of '$fd_limit'"

# the witness: a relay running through every step below (~15 s)
spawn "$WORK/uclient.log" timeout 90 turnutils_uclient -m 2 -l 170 -z 50 -n 300 -e 127.0.0.1 \
    -r "$PEER_PORT" -p "$PORT" -u ready -w ready-pass 127.0.0.1
UCLIENT_PID=$LAST_PID
for _ in $(seq 100); do
    grep -q 'tot_recv_msgs=[1-9]' "$WORK/uclient.log" && break
    sleep 0.1
done
sleep 1.2
witness=$(allocs)
log "the witness relay holds ${witness:-?} allocations"
[ "${witness:-0}" -ge 1 ] && [ "$witness" -le 8 ] || die "unexpected witness allocations '$witness'"

hold low $((16 - witness))
A=$HOLD_PID
expect_ready 200 '^ok$' "16 of 40 (40%, below ready-high 50)"
[ "$(metric blindrelay_ready)" = 1 ] && pass "metrics: blindrelay_ready 1" ||
    fail "metrics: blindrelay_ready '$(metric blindrelay_ready)', expected 1"

hold high 6
B=$HOLD_PID
expect_ready 503 '^not ready: allocations 55% of 40$' "22 of 40 (55%, ready-high 50)"
[ "$(metric blindrelay_ready)" = 0 ] && pass "metrics: blindrelay_ready 0" ||
    fail "metrics: blindrelay_ready '$(metric blindrelay_ready)', expected 0"
ratio=$(metric 'blindrelay_capacity_used_ratio{resource="allocations"}')
[ "$ratio" = 0.5500 ] && pass "metrics: allocations used ratio $ratio" ||
    fail "metrics: allocations used ratio '$ratio', expected 0.5500"
[ "$(http_code /healthz)" = 200 ] && pass "/healthz stays 200" || fail "/healthz $(http_code /healthz)"
expect_client "not ready: a new Allocate is still served" allocate --server "$SERVER" \
    --user ready --password ready-pass

release "$B"
settle allocs 16 || fail "allocations did not fall to 16: '$(allocs)'"
expect_ready 503 '^not ready: allocations 40% of 40$' "back to 16 of 40 (between 30 and 50): hysteresis"

wait "$UCLIENT_PID"
check_uclient_log "the relay running across the flips" "$WORK/uclient.log" $?

release "$A"
# what is left of the witness's (turnutils_uclient releases some, leaves
# the others to expire)
for _ in $(seq 100); do
    [ "$(allocs)" -le "$witness" ] && break
    sleep 0.1
done
left=$(allocs)
[ "$left" -le "$witness" ] || fail "allocations did not fall to $witness or fewer: '$left'"
expect_ready 200 '^ok$' "$left of 40 (below ready-low 30)"
[ "$(metric blindrelay_ready)" = 1 ] && pass "metrics: blindrelay_ready 1 again" ||
    fail "metrics: blindrelay_ready '$(metric blindrelay_ready)', expected 1"
grep -q "capacity: /readyz answers 503 (allocations 55% of 40, ready-high 50%)" "$SERVER_LOG" &&
    grep -q "capacity: /readyz answers 200 again" "$SERVER_LOG" &&
    pass "log: both flips announced" || fail "log: the flips are not announced"

kill -USR1 "$SERVER_PID"
expect_ready 503 '^not ready: draining$' "SIGUSR1"
[ "$(metric blindrelay_ready)" = 0 ] && pass "draining: blindrelay_ready 0" ||
    fail "draining: blindrelay_ready '$(metric blindrelay_ready)'"
server_stop

log "relay ports: a range of 20, total-quota unlimited, ready-high 50 (config file)"
printf 'ready-high = 50\nready-low = 30\n' >"$WORK/ready.conf"
start ports --config "$WORK/ready.conf" --relay-ports 64600-64619 --total-quota 0
hold ports 10
expect_ready 503 '^not ready: relay_ports 50% of 20$' "10 of 20 relay ports held"
printf 'ready-high = 60\nready-low = 55\n' >"$WORK/ready.conf"
kill -HUP "$SERVER_PID"
expect_ready 200 '^ok$' "SIGHUP to ready-high 60, ready-low 55: 10 of 20 is below the new low"
grep -q "SIGHUP: ready-high changed; applied" "$SERVER_LOG" &&
    grep -q "SIGHUP: ready-low changed; applied" "$SERVER_LOG" &&
    pass "log: the reload names both keys" || fail "log: the reload does not name both keys"
release "$HOLD_PID"
expect_ready 200 '^ok$' "relay ports released"
server_stop

log "bad water marks fail at start naming the key"
out=$(timeout 10 "$BUILD/blindrelay" --admin-listen "" --ready-high 50 --ready-low 50 2>&1)
echo "$out" | grep -q -- "--ready-low: ready-low (50) must be below ready-high (50)" &&
    pass "ready-low 50 with ready-high 50: $out" || fail "ready-low 50 ready-high 50: '$out'"
out=$(timeout 10 "$BUILD/blindrelay" --admin-listen "" --ready-high 101 2>&1)
echo "$out" | grep -q -- "--ready-high" && pass "ready-high 101: $out" || fail "ready-high 101: '$out'"

finish
