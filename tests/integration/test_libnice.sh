#!/bin/bash
# Interoperability with libnice, the GLib ICE library (GStreamer's webrtcbin,
# Pidgin/Farstream): two libnice agents in one process (ice_libnice.py,
# GObject introspection plus ctypes for the data path) with force-relay set,
# so they gather and offer relayed candidates only, run ICE through the
# server and send 200 datagrams of 994-1000 bytes each way (BR_ICE_COUNT,
# BR_ICE_SIZE). Each run passes when both reach READY, the selected pair is
# relay -> relay on both sides, the agents reach the server over the
# transport under test (over TCP: one TCP connection each), and every
# datagram arrived intact exactly once. Runs: static user
# over UDP and TCP (NICE_RELAY_TYPE_TURN_UDP / _TCP), TURN REST credentials
# over UDP and TCP, and a wrong password, which must not produce a relay
# candidate.
#
#   bash test_libnice.sh BUILD_DIR
#   BR_TEST_SERVER=coturn bash test_libnice.sh BUILD_DIR
#   BR_ICE_COUNT=2000 BR_ICE_SIZE=1201 bash test_libnice.sh BUILD_DIR
#
# Loopback only: libnice leaves loopback out of the interfaces it gathers
# on, so the agents are given 127.0.0.1 explicitly (add_local_address); no
# network namespace is needed, even on a host with nothing but lo. Ports
# 62950-62999 (UDP and TCP), relay ports 64150-64199. Needs Debian's
# python3 with python3-gi and gir1.2-nice-0.1, and ss (iproute2).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
ICE=$HERE/ice_libnice.py
PY=${BR_PYTHON:-/usr/bin/python3}
USER_NAME=libnice
USER_PASS=libnice-pass-$$
SECRET=libnice-secret-$$
COUNT=${BR_ICE_COUNT:-200}
SIZE=${BR_ICE_SIZE:-1000}
RUN_TIMEOUT=20

need "$TESTCLIENT" "$PY" ss timeout
if [ "$BR_TEST_SERVER" = coturn ]; then
    need turnserver
else
    need "$BUILD/blindrelay"
fi
"$PY" -c 'import gi; gi.require_version("Nice", "0.1"); from gi.repository import Nice' 2>/dev/null ||
    die "$PY cannot load libnice through GObject introspection (apt-get install python3-gi gir1.2-nice-0.1)"

# A port free for both UDP and TCP on loopback, in [$1, $1+50).
ice_pick_port() {
    local p
    for p in $(seq "$1" $(($1 + 49))); do
        if ! ss -Hlun "sport = :$p" 2>/dev/null | grep -q . &&
            ! ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then
            echo "$p"
            return 0
        fi
    done
    die "no free UDP+TCP port near $1"
}
PORT=$(ice_pick_port 62950)
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

# ice LABEL TRANSPORT USER PASSWORD: one ice_libnice.py run that must pass.
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
        pass "$label: $(grep '^ice_libnice: ok' "$out" | sed 's/^ice_libnice: ok [a-z]*: //') ($took s)"
    else
        [ $rc -ge 124 ] && fail "$label: ice_libnice.py hit the timeout (status $rc)"
        fail "$label: $(grep '^ice_libnice: FAIL' "$out" | sed 's/^ice_libnice: FAIL //')"
        grep -v '^ice_libnice: FAIL' "$out" | tail -15 | sed 's/^/    /'
        echo "    --- $BR_TEST_SERVER log (last 15 lines):"
        tail -15 "$SERVER_LOG" | sed 's/^/    /'
    fi
}

COMMON=(--relay-ip 127.0.0.1 --relay-ports 64150-64199 --realm blindrelay.test
    --allow-peer 127.0.0.0/8)

log "static user (server: $BR_TEST_SERVER, $LISTEN, $COUNT datagrams of up to $SIZE bytes each way)"
start static "${COMMON[@]}" --user "$USER_NAME:$USER_PASS"
ice static-udp udp "$USER_NAME" "$USER_PASS"
ice static-tcp tcp "$USER_NAME" "$USER_PASS"
# A wrong password must not get a relay candidate, so no connection.
out=$WORK/ice-wrong.log
if timeout -k 5 20 "$PY" "$ICE" --server "$LISTEN" --transport udp --user "$USER_NAME" \
    --password wrong --count 1 --timeout 10 >"$out" 2>&1; then
    fail "wrong-password: libnice connected with a wrong password"
elif grep -q 'gathered no candidate' "$out"; then
    pass "wrong-password: refused (no relay candidate gathered)"
else
    fail "wrong-password: failed, but not at gathering: $(grep '^ice_libnice: FAIL' "$out")"
fi
server_stop

log "TURN REST credentials"
start rest "${COMMON[@]}" --auth-secret "$SECRET"
REST_USER="$(($(date +%s) + 600)):libnice"
REST_PASS=$("$PY" -c 'import base64, hashlib, hmac, sys
print(base64.b64encode(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha1).digest()).decode())' \
    "$SECRET" "$REST_USER")
ice rest-udp udp "$REST_USER" "$REST_PASS"
ice rest-tcp tcp "$REST_USER" "$REST_PASS"
server_stop

finish
