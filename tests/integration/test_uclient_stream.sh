# coturn's turnutils_uclient relays through the server over TCP (-t) and
# over TLS (-t -S; plain -S would be DTLS), with channels, with a static user
# and with TURN REST credentials (-W), and client to client (-y) over TCP.
# No packet may be lost and every packet sent must come back. TLS is not
# combined with -y: uclient 4.6.1 then sends before the other side's
# permission exists and loses ~2% at the start, against coturn as well.
# uclient runs with lib.sh's TLS framing shim (UCLIENT): without it, frames
# that share a TLS record are dropped by uclient and reported as lost.
# Against blindrelay, /metrics must also show each run's packets relayed
# once each way on the run's transport and no packet dropped, and with one
# worker TCP clients' packets for each other handed over inside it.
# Ports 62400-62449, relay ports 63600-63699.
source "$(dirname "$0")/lib.sh"

need "$TESTCLIENT" "$UCLIENT_FRAMES" turnutils_uclient turnutils_peer openssl curl
[ "$BR_TEST_SERVER" = coturn ] || need "$BUILD/blindrelay"

PORT=$(pick_stream_port 62400)
TLS_PORT=$(pick_stream_port $((PORT + 1)))
PEER_PORT=$(pick_port $((TLS_PORT + 1)))
# not PEER_PORT + 1: uclient binds that too (its RTCP peer)
ADMIN_PORT=$(pick_stream_port $((PEER_PORT + 10)))
USER=brtest
PASS=brtest-pass-1
SECRET=brtest-secret-$$

make_cert server stream.test
spawn "$WORK/peer.log" turnutils_peer -L 127.0.0.1 -p "$PEER_PORT"

# packet_counters TRANSPORT: blindrelay's packets relayed client to peer and
# peer to client on TRANSPORT (udp, tcp, tls) and dropped for any reason.
packet_counters() {
    curl -sf --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" | awk -v t="$1" '
        $1 == "blindrelay_packets_relayed_total{direction=\"client_to_peer\",transport=\"" t "\"}" { c = $2 }
        $1 == "blindrelay_packets_relayed_total{direction=\"peer_to_client\",transport=\"" t "\"}" { p = $2 }
        $1 ~ /^blindrelay_packets_dropped_total[{]/ { d += $2 }
        END { print c + 0, p + 0, d + 0 }'
}

# check_counters LABEL TRANSPORT SENT BEFORE AFTER: the run moved both packet
# counters by SENT and the dropped ones not at all.
check_counters() {
    local label=$1 tr=$2 sent=$3 c0 p0 d0 c1 p1 d1
    read -r c0 p0 d0 <<<"$4"
    read -r c1 p1 d1 <<<"$5"
    if [ $((c1 - c0)) -ne "$sent" ] || [ $((p1 - p0)) -ne "$sent" ] || [ "$d1" -ne "$d0" ]; then
        fail "$label: blindrelay relayed $((c1 - c0)) to the peer and $((p1 - p0)) back over $tr, dropped $((d1 - d0)); uclient sent $sent"
    else
        pass "$label: blindrelay relayed $sent each way over $tr, dropped none"
    fi
}

# run_uclient LABEL PORT uclient-args...: 4 clients x 50 messages of 170
# bytes, 5 ms apart.
run_uclient() {
    local label=$1 port=$2 out=$WORK/uclient-$1.log rc tr=udp before=
    shift 2
    case " $* " in
    *" -S "*) tr=tls ;;
    *" -t "*) tr=tcp ;;
    esac
    [ "$BR_TEST_SERVER" = blindrelay ] && before=$(packet_counters $tr)
    timeout 90 "${UCLIENT[@]}" -n 50 -m 4 -l 170 -z 5 -e 127.0.0.1 -r "$PEER_PORT" \
        -p "$port" "$@" 127.0.0.1 >"$out" 2>&1
    rc=$?
    check_uclient_log "$label" "$out" "$rc" || return
    if [ -n "$before" ]; then
        check_counters "$label" $tr "$(sed -n 's/.*start_mclient: tot_send_msgs=\([0-9]*\),.*/\1/p' "$out" | tail -1)" \
            "$before" "$(packet_counters $tr)"
    fi
    # the transport really was the one asked for
    case " $* " in
    *" -S "*)
        grep -q 'tls_connect: client session connected' "$out" ||
            fail "$label: uclient did not report a TLS session"
        grep -q '^br-uclient-frames: ' "$out" ||
            fail "$label: the TLS framing shim was not loaded into uclient"
        ;;
    esac
}

COMMON=(--relay-ip 127.0.0.1 --relay-ports 63600-63699 --realm blindrelay.test
    --allow-peer 127.0.0.0/8 --admin-listen "127.0.0.1:$ADMIN_PORT")

log "static user (server: $BR_TEST_SERVER, tcp $PORT, tls $TLS_PORT, peer $PEER_PORT)"
server_start_stream static "127.0.0.1:$PORT" "127.0.0.1:$TLS_PORT" "$WORK/server.pem" \
    "$WORK/server.key" "${COMMON[@]}" --user "$USER:$PASS"
run_uclient tcp-channels "$PORT" -t -u "$USER" -w "$PASS"
run_uclient tls-channels "$TLS_PORT" -t -S -u "$USER" -w "$PASS"
run_uclient tcp-client-to-client "$PORT" -t -y -u "$USER" -w "$PASS"
# the UDP path is unaffected by the stream listeners
run_uclient udp-channels "$PORT" -u "$USER" -w "$PASS"
server_stop

log "TURN REST credentials"
server_start_stream rest "127.0.0.1:$PORT" "127.0.0.1:$TLS_PORT" "$WORK/server.pem" \
    "$WORK/server.key" "${COMMON[@]}" --auth-secret "$SECRET"
run_uclient rest-tcp-channels "$PORT" -t -u brtest-rest -W "$SECRET"
run_uclient rest-tls-channels "$TLS_PORT" -t -S -u brtest-rest -W "$SECRET"
if timeout 60 turnutils_uclient -t -n 5 -m 1 -e 127.0.0.1 -r "$PEER_PORT" -p "$PORT" \
    -u brtest-rest -W wrong-secret 127.0.0.1 >"$WORK/uclient-wrong.log" 2>&1; then
    fail "rest-tcp-wrong-secret: turnutils_uclient succeeded with a wrong secret"
else
    pass "rest-tcp-wrong-secret: refused"
fi
server_stop

if [ "$BR_TEST_SERVER" = blindrelay ]; then
    # With one worker every relayed address is that worker's: TCP clients'
    # packets for each other take the same path as UDP clients' (the out
    # queue's in-worker hand-over), not a send through the kernel.
    log "one worker: TCP client to client handed over inside the worker"
    server_start_stream oneworker "127.0.0.1:$PORT" "127.0.0.1:$TLS_PORT" "$WORK/server.pem" \
        "$WORK/server.key" "${COMMON[@]}" --user "$USER:$PASS" --threads 1
    in_worker() {
        curl -sf --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" |
            awk '$1 == "blindrelay_packets_relayed_in_worker_total" { print $2 }'
    }
    iw0=$(in_worker)
    run_uclient tcp-client-to-client-one-worker "$PORT" -t -y -u "$USER" -w "$PASS"
    iw1=$(in_worker)
    sent=$(sed -n 's/.*start_mclient: tot_send_msgs=\([0-9]*\),.*/\1/p' \
        "$WORK/uclient-tcp-client-to-client-one-worker.log" | tail -1)
    if [ -n "$sent" ] && [ "$sent" -gt 0 ] && [ $((iw1 - iw0)) -eq "$sent" ]; then
        pass "one worker: all $sent TCP client-to-client packets handed over in the worker"
    else
        fail "one worker: $((iw1 - iw0)) packets handed over in the worker, uclient sent ${sent:-?}"
    fi
    server_stop

    log "--tcp false: no TCP listener, UDP still served"
    server_start notcp "127.0.0.1:$PORT" "${COMMON[@]}" --user "$USER:$PASS" --tcp false
    if timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null; then
        fail "tcp false: a TCP connection to $PORT was accepted"
    else
        pass "tcp false: TCP connection to $PORT refused"
    fi
    expect_client "tcp false: UDP Binding" binding --server "127.0.0.1:$PORT"
    server_stop
fi

finish
