# A busy NAT earns its unauth-rate budget (issue 8): 200 clients on one
# address setting up allocations as fast as they can (401, authenticated
# Allocate, Refresh 0, again) are not held to the base rate, because every
# login they complete credits their prefix; and the budget earned by one
# prefix does not help another (a flood from a second /24 that never logs
# in gets one burst). nat_setups.py drives the clients.
# blindrelay only. Ports 61400-61449, relay ports 64600-64999.
source "$(dirname "$0")/lib.sh"

if [ "$BR_TEST_SERVER" != blindrelay ]; then
    echo "[$TEST_NAME] blindrelay-specific; nothing to do for $BR_TEST_SERVER"
    exit 0
fi
need "$BUILD/blindrelay" "$TESTCLIENT" "$PYTHON"

PORT=$(pick_port 61400)
RATE=10
server_start main "127.0.0.1:$PORT" --threads 2 --unauth-rate $RATE --relay-ip 127.0.0.1 \
    --relay-ports 64600-64999 --user nat:nat-pass

out=$(timeout 60 "$PYTHON" "$(dirname "$0")/nat_setups.py" 127.0.0.1 "$PORT" 127.0.6.1 200 4 \
    nat nat-pass)
log "$out"
rate=$(echo "$out" | sed -n 's/.* rate=\([0-9]*\).*/\1/p')
[ -n "$rate" ] || die "the NAT clients did not run: $out"
# unearned, a prefix gets 2 x RATE at once and RATE a second: 20 + 4 x 10
# challenges in 4 s, 15 setups a second at best
if [ "$rate" -ge $((10 * RATE)) ]; then
    pass "200 clients on one address: $rate setups/s with unauth-rate $RATE (earned)"
else
    fail "200 clients on one address: $rate setups/s with unauth-rate $RATE"
fi
out=$(timeout 60 "$PYTHON" "$(dirname "$0")/unauth_flood.py" 127.0.0.1 "$PORT" 127.0.7 500 100)
answered=$(echo "$out" | sed -n 's/.*answered=\([0-9]*\).*/\1/p')
if [ -n "$answered" ] && [ "$answered" -le $((4 * RATE)) ]; then
    pass "another /24 that never logs in: $answered answers to 500 (one burst, ${out##* })"
else
    fail "another /24 that never logs in: '$answered' answers to 500: $out"
fi
server_stop
finish
