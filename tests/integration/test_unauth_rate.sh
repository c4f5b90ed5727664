# unauth-rate is one limit per source prefix for the whole server, not one
# per worker (issue 8): with threads = 2, 2,000 unauthenticated requests
# from one /24 over many source ports (spread over both workers by
# SO_REUSEPORT) get no more answers than one burst (2 x rate) plus the rate
# for each second boundary the flood crossed. The counters agree.
# blindrelay only. Ports 61350-61399.
source "$(dirname "$0")/lib.sh"

if [ "$BR_TEST_SERVER" != blindrelay ]; then
    echo "[$TEST_NAME] blindrelay-specific; nothing to do for $BR_TEST_SERVER"
    exit 0
fi
need "$BUILD/blindrelay" "$TESTCLIENT" "$PYTHON" curl

PORT=$(pick_stream_port 61350)
ADMIN_PORT=$(pick_stream_port $((PORT + 1)))
RATE=20
BURST=$((2 * RATE))

server_start main "127.0.0.1:$PORT" --threads 2 --unauth-rate $RATE --relay-ip 127.0.0.1 \
    --relay-ports 64510-64519 --user r:pw --admin-listen "127.0.0.1:$ADMIN_PORT"
metric() { curl -s -m 2 "http://127.0.0.1:$ADMIN_PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

# the flood comes from 127.0.5.0/24, not the /24 server_start's Binding used
out=$(timeout 60 "$PYTHON" "$(dirname "$0")/unauth_flood.py" 127.0.0.1 "$PORT" 127.0.5 2000 400)
log "$out"
answered=$(echo "$out" | sed -n 's/.*answered=\([0-9]*\).*/\1/p')
seconds=$(echo "$out" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p')
[ -n "$answered" ] || die "the flood did not run: $out"
# a flood of S seconds sees at most int(S) + 2 distinct seconds of the
# monotonic clock (both workers read the same clock; a bucket refills only
# when a reading is newer than its last), so at most int(S) + 1 refills
boundaries=$(awk -v s="$seconds" 'BEGIN { printf "%d", int(s) + 1 }')
limit=$((BURST + RATE * boundaries))
if [ "$answered" -le "$limit" ] && [ "$answered" -ge "$BURST" ]; then
    pass "2000 requests from one /24, 2 workers: $answered answers (one burst $BURST, limit $limit)"
else
    fail "2000 requests from one /24, 2 workers: $answered answers, want $BURST..$limit"
fi
limited=$(metric blindrelay_rate_limited_total)
if [ -n "$limited" ] && [ $((limited + answered)) -ge 1990 ]; then
    pass "blindrelay_rate_limited_total $limited: every request answered or counted"
else
    fail "blindrelay_rate_limited_total is '$limited' with $answered answered of 2000"
fi
server_stop

# unauth-rate-total: a flood forged from 400 prefixes, each with a full
# burst of its own, gets no more than the total's burst plus its rate (at
# least its rate: the start-up Binding took one of the burst)
TOTAL=50
server_start spread "127.0.0.1:$PORT" --threads 2 --unauth-rate $RATE --relay-ip 127.0.0.1 \
    --unauth-rate-total $TOTAL --relay-ports 64510-64519 --user r:pw
out=$(timeout 60 "$PYTHON" "$(dirname "$0")/unauth_flood.py" 127.0.0.1 "$PORT" spread 2000 400)
log "$out"
answered=$(echo "$out" | sed -n 's/.*answered=\([0-9]*\).*/\1/p')
seconds=$(echo "$out" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p')
[ -n "$answered" ] || die "the spread flood did not run: $out"
boundaries=$(awk -v s="$seconds" 'BEGIN { printf "%d", int(s) + 1 }')
limit=$((2 * TOTAL + TOTAL * boundaries))
if [ "$answered" -le "$limit" ] && [ "$answered" -ge "$TOTAL" ]; then
    pass "2000 requests from 400 /24s, unauth-rate-total $TOTAL: $answered answers (limit $limit)"
else
    fail "2000 requests from 400 /24s, unauth-rate-total $TOTAL: $answered answers, want $TOTAL..$limit"
fi
server_stop
finish
