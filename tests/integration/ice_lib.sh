# The ICE interoperability run shared by test_aioice.sh and test_libnice.sh
# (sourced after lib.sh). The caller sets:
#   STACK             aioice | libnice (the driver is ice_$STACK.py)
#   ICE_IMPORT        python code that fails when the stack is missing
#   ICE_PACKAGES      what to apt-get install for it
#   ICE_GATHER_FAILED what the driver prints when no relay candidate came
#   ICE_PORT_BASE     first of 50 listening ports to try
#   ICE_RELAY_PORTS   MIN-MAX relay ports
# Runs: static user over UDP and TCP, a wrong password (no relay candidate),
# TURN REST credentials over UDP and TCP. Each passing run: ICE completed,
# relay -> relay on both sides over the transport under test, every datagram
# intact exactly once.

HERE=$(cd "$(dirname "$0")" && pwd)
ICE=$HERE/ice_$STACK.py
PY=${BR_PYTHON:-/usr/bin/python3}
USER_NAME=$STACK
USER_PASS=$STACK-pass-$$
SECRET=$STACK-secret-$$
COUNT=${BR_ICE_COUNT:-200}
SIZE=${BR_ICE_SIZE:-1000}
RUN_TIMEOUT=20

need "$TESTCLIENT" "$PY" ss timeout
if [ "$BR_TEST_SERVER" = coturn ]; then
    need turnserver
else
    need "$BUILD/blindrelay"
fi
"$PY" -c "$ICE_IMPORT" 2>/dev/null || die "$PY cannot load $STACK ($ICE_PACKAGES)"

PORT=$(pick_stream_port "$ICE_PORT_BASE")
LISTEN=127.0.0.1:$PORT

# start NAME FLAGS...: the server under test with UDP and TCP listeners on
# $LISTEN; waits (bounded) for both. coturn_args turns coturn's TCP
# listener off to match blindrelay's old defaults: it is turned back on.
start() {
    local name=$1
    shift
    if [ "$BR_TEST_SERVER" = coturn ]; then
        local args a keep=()
        mapfile -t args < <(coturn_args --listen "$LISTEN" "$@" 2>/dev/null)
        for a in "${args[@]}"; do
            [ "$a" = --no-tcp ] || keep+=("$a")
        done
        SERVER_LOG=$WORK/$name.log
        spawn "$SERVER_LOG" turnserver "${keep[@]}"
        SERVER_PID=$LAST_PID
        local up=0
        for _ in $(seq 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$SERVER_LOG"; die "coturn exited at startup"; }
            if "$TESTCLIENT" binding --server "$LISTEN" --timeout 1 >/dev/null 2>&1; then
                up=1
                break
            fi
            sleep 0.1
        done
        [ $up = 1 ] || die "coturn did not answer a Binding request on $LISTEN"
    else
        server_start "$name" "$LISTEN" "$@"
    fi
    for _ in $(seq 50); do
        ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q . && return 0
        sleep 0.1
    done
    die "$BR_TEST_SERVER has no TCP listener on $LISTEN"
}

# ice LABEL TRANSPORT USER PASSWORD: one ice_$STACK.py run that must pass.
ice() {
    local label=$1 transport=$2 user=$3 pass=$4 out=$WORK/ice-$1.log rc t0
    t0=$(date +%s.%N)
    timeout -k 5 $((RUN_TIMEOUT + 10)) "$PY" "$ICE" --server "$LISTEN" --transport "$transport" \
        --user "$user" --password "$pass" --count "$COUNT" --size "$SIZE" \
        --timeout "$RUN_TIMEOUT" >"$out" 2>&1
    rc=$?
    local took
    took=$(awk "BEGIN{printf \"%.2f\", $(date +%s.%N) - $t0}")
    if [ $rc -eq 0 ]; then
        pass "$label: $(grep "^ice_$STACK: ok" "$out" | sed "s/^ice_$STACK: ok [a-z]*: //") ($took s)"
    else
        [ $rc -ge 124 ] && fail "$label: ice_$STACK.py hit the timeout (status $rc)"
        fail "$label: $(grep "^ice_$STACK: FAIL" "$out" | sed "s/^ice_$STACK: FAIL //")"
        grep -v "^ice_$STACK: FAIL" "$out" | tail -15 | sed 's/^/    /'
        echo "    --- $BR_TEST_SERVER log (last 15 lines):"
        tail -15 "$SERVER_LOG" | sed 's/^/    /'
    fi
}

COMMON=(--relay-ip 127.0.0.1 --relay-ports "$ICE_RELAY_PORTS" --realm blindrelay.test
    --allow-peer 127.0.0.0/8)

log "static user (server: $BR_TEST_SERVER, $LISTEN, $COUNT datagrams of up to $SIZE bytes each way)"
start static "${COMMON[@]}" --user "$USER_NAME:$USER_PASS"
ice static-udp udp "$USER_NAME" "$USER_PASS"
ice static-tcp tcp "$USER_NAME" "$USER_PASS"
# A wrong password must not get a relay candidate, so no connection.
out=$WORK/ice-wrong.log
if timeout -k 5 20 "$PY" "$ICE" --server "$LISTEN" --transport udp --user "$USER_NAME" \
    --password wrong --count 1 --timeout 10 >"$out" 2>&1; then
    fail "wrong-password: $STACK connected with a wrong password"
elif grep -q "$ICE_GATHER_FAILED" "$out"; then
    pass "wrong-password: refused (no relay candidate: $ICE_GATHER_FAILED)"
else
    fail "wrong-password: failed, but not at gathering: $(grep "^ice_$STACK: FAIL" "$out")"
fi
server_stop

log "TURN REST credentials"
start rest "${COMMON[@]}" --auth-secret "$SECRET"
REST_USER="$(($(date +%s) + 600)):$STACK"
REST_PASS=$("$PY" -c 'import base64, hashlib, hmac, sys
print(base64.b64encode(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha1).digest()).decode())' \
    "$SECRET" "$REST_USER")
ice rest-udp udp "$REST_USER" "$REST_PASS"
ice rest-tcp tcp "$REST_USER" "$REST_PASS"
server_stop

finish
