# shellcheck shell=bash
# blindrelay-bench against the server under test: 10 relay-to-relay pairs
# carry SRTP at 2000 packets/s for ~3 s over UDP, over TCP (RFC 8656 stream
# framing) and with TURN REST credentials. Every packet must arrive and
# authenticate: 0 SRTP auth failures, 0 lost, received == sent. No timing
# assertions. Then flood mode at a low flood rate (the calls lose nothing,
# the flood's answers are counted) and churn from one address.
# Ports 62900-62949, relay ports 64000-64099; the flood's own sockets take
# wildcard-bound UDP ports from 10000 up.
source "$(dirname "$0")/lib.sh"

BENCH=$BUILD/blindrelay-bench
need "$TESTCLIENT" "$BENCH"
if [ "$BR_TEST_SERVER" = coturn ]; then
    need turnserver
else
    need "$BUILD/blindrelay"
fi

PORT=$(pick_port 62900)
SECRET=bench-secret-$$
COMMON=(--relay-ip 127.0.0.1 --relay-ports 64000-64099 --realm test --allow-peer 127.0.0.0/8
    --threads 2)

# kv KEY LINE: the value of KEY in a key=value summary line.
kv() {
    tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"
}

# run_bench LABEL bench-args...: runs steady for 3 s and checks the summary.
run_bench() {
    local label=$1 out=$WORK/bench-$1.out line sent recv
    shift
    if ! timeout 60 "$BENCH" steady --server "127.0.0.1:$PORT" --pairs 10 --rate 2000 \
        --duration 3 "$@" >"$out" 2>"$WORK/bench-$label.err"; then
        fail "$label: blindrelay-bench failed"
        tail -5 "$WORK/bench-$label.err" "$out" | sed 's/^/    /'
        return
    fi
    line=$(grep '^mode=steady' "$out" | tail -1)
    sent=$(kv sent "$line")
    recv=$(kv received "$line")
    if [ -z "$sent" ] || [ "$sent" -lt 3000 ]; then
        fail "$label: too few packets sent ($sent): $line"
    elif [ "$(kv auth_fail "$line")" != 0 ] || [ "$(kv lost "$line")" != 0 ] ||
        [ "$recv" != "$sent" ] || [ "$(kv duplicates "$line")" != 0 ] ||
        [ "$(kv bad "$line")" != 0 ]; then
        fail "$label: $line"
    else
        pass "$label: sent $sent received $recv auth_fail 0 lost 0 p99 $(kv lat_p99_us "$line") us"
    fi
}

# coturn_tcp_start: coturn as server_start makes it, but with TCP listening
# (lib.sh turns TCP off for coturn to match blindrelay's old UDP-only days).
coturn_tcp_start() {
    local args a keep=()
    mapfile -t args < <(coturn_args --listen "127.0.0.1:$PORT" "$@")
    for a in "${args[@]}"; do
        [ "$a" = --no-tcp ] || keep+=("$a")
    done
    SERVER_LOG=$WORK/coturn-tcp.log
    spawn "$SERVER_LOG" turnserver "${keep[@]}"
    # shellcheck disable=SC2034 # read by server_stop in lib.sh
    SERVER_PID=$LAST_PID
    for _ in $(seq 50); do
        "$TESTCLIENT" binding --server "127.0.0.1:$PORT" --timeout 1 >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "coturn (TCP) did not answer on 127.0.0.1:$PORT"
}

log "static user over UDP and TCP (server: $BR_TEST_SERVER, port $PORT)"
if [ "$BR_TEST_SERVER" = coturn ]; then
    server_start static "127.0.0.1:$PORT" "${COMMON[@]}" --user u:p
    run_bench udp --user u --password p
    server_stop
    coturn_tcp_start "${COMMON[@]}" --user u:p
    sleep 0.3 # coturn opens its TCP listener after the UDP one
    run_bench tcp --tcp --user u --password p
    server_stop
else
    server_start static "127.0.0.1:$PORT" "${COMMON[@]}" --user u:p
    run_bench udp --user u --password p
    run_bench tcp --tcp --user u --password p
    server_stop
fi

log "TURN REST credentials over UDP"
server_start rest "127.0.0.1:$PORT" "${COMMON[@]}" --auth-secret "$SECRET"
run_bench rest --secret "$SECRET"
server_stop

# flood mode: 5 pairs relay while a flood thread sends garbage, Allocates,
# Bindings and ChannelData for unknown channels at a low rate from random
# 127.0.0.0/8 sources. The calls lose nothing; the flood's answers are
# counted, and only Allocates and Bindings are answered, at most once each.
log "flood mode at a low flood rate"
server_start rest "127.0.0.1:$PORT" "${COMMON[@]}" --auth-secret "$SECRET"
out=$WORK/bench-flood.out
if ! timeout 60 "$BENCH" flood --server "127.0.0.1:$PORT" --secret "$SECRET" --pairs 5 --rate 1000 \
    --duration 2 --flood-rate 2000 --flood-ports 4 >"$out" 2>"$WORK/bench-flood.err"; then
    fail "flood: blindrelay-bench failed"
    tail -5 "$WORK/bench-flood.err" "$out" | sed 's/^/    /'
else
    line=$(grep '^mode=flood' "$out" | tail -1)
    sent=$(kv sent "$line")
    fsent=$(kv flood_sent "$line")
    asked=$(($(kv flood_sent_allocate "$line") + $(kv flood_sent_binding "$line")))
    answers=$(kv flood_answers "$line")
    if [ "$(grep -c '^flood_start$' "$out")" != 1 ] || [ "$(grep -c '^flood_end$' "$out")" != 1 ]; then
        fail "flood: no flood_start/flood_end marks: $(head -3 "$out")"
    elif [ -z "$sent" ] || [ "$sent" -lt 1500 ] || [ "$(kv lost "$line")" != 0 ] ||
        [ "$(kv received "$line")" != "$sent" ] || [ "$(kv auth_fail "$line")" != 0 ]; then
        fail "flood: the calls lost packets or sent too few: $line"
    elif [ "$fsent" -lt 2000 ] || [ "$fsent" -gt 4500 ] || [ "$(kv flood_send_fail "$line")" != 0 ]; then
        fail "flood: expected up to 4000 flood datagrams (2 s at 2000/s), at least half: $line"
    elif [ "$(kv flood_sent_garbage "$line")" = 0 ] || [ "$(kv flood_sent_channel "$line")" = 0 ] ||
        [ "$asked" = 0 ]; then
        fail "flood: the mix lacks a kind: $line"
    elif [ "$answers" = 0 ] || [ "$answers" -gt "$asked" ] || [ "$(kv flood_answers_other "$line")" != 0 ]; then
        fail "flood: answers $answers to $asked Allocates and Bindings: $line"
    else
        pass "flood: calls sent $sent lost 0; flood $fsent datagrams drew $answers answers ($(kv flood_answers_per_request "$line") per datagram)"
    fi
fi

# churn --one-address: every client on 127.0.0.2, a closed loop of
# Allocate (401, then with credentials) and Refresh 0. coturn keeps a
# released relay port a while and the test's range has 100: 20 cycles/s.
loop=(--rate 0)
[ "$BR_TEST_SERVER" = coturn ] && loop=(--rate 20)
log "churn from one address (${loop[*]})"
out=$WORK/bench-nat.out
if ! timeout 60 "$BENCH" churn --one-address --allocate-only "${loop[@]}" --window 16 --duration 2 \
    --server "127.0.0.1:$PORT" --secret "$SECRET" >"$out" 2>"$WORK/bench-nat.err"; then
    fail "one-address churn: blindrelay-bench failed"
    tail -5 "$WORK/bench-nat.err" "$out" | sed 's/^/    /'
else
    line=$(grep '^mode=churn' "$out" | tail -1)
    if [ "$(kv source "$line")" != one-address ] || [ "$(kv cycle "$line")" != allocate ] ||
        [ "$(kv failed "$line")" != 0 ] || [ "$(kv completed "$line")" -lt 10 ]; then
        fail "one-address churn: $line"
    else
        pass "one-address churn: $(kv completed "$line") setups in 2 s ($(kv setups_per_s "$line")/s), 0 failed"
    fi
fi
server_stop

# The tool refuses targets off loopback before sending anything.
if out=$("$BENCH" steady --server 192.0.2.1:3478 --user u --password p 2>&1); then
    fail "non-loopback server accepted"
elif grep -q 'only loopback' <<<"$out"; then
    pass "non-loopback server refused: $out"
else
    fail "non-loopback server: unexpected message: $out"
fi

finish
