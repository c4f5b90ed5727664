# PROXY protocol v2 (proxy-protocol-from) behind a real proxy: Debian's
# haproxy in mode tcp with send-proxy-v2 in front of blindrelay's TCP and
# TLS listeners, on loopback. Through it, turnutils_uclient relays over TCP
# and TLS with no loss, and a Binding from 127.0.0.7 gets 127.0.0.7 and its
# own port as XOR-MAPPED-ADDRESS, not haproxy's address; the per-address
# connection cap counts the header's client. Sent directly: a header from
# the trusted address names the client (before TLS on the TLS listener, LOCAL
# keeps the proxy's address); a header from an untrusted address (127.0.0.5)
# is refused with the connection, while a plain client there is served as
# before; the trusted address without a header, a header over the bound
# (closed at once) and a header that never completes (closed at
# handshake-timeout 2) are counted in blindrelay_proxy_header_failures_total.
# The server's output names none of the clients; a bad proxy-protocol-from
# stops the start naming the key. blindrelay only.
# Ports 61250-61299, relay ports 61800-61849.
source "$(dirname "$0")/lib.sh"

if [ "$BR_TEST_SERVER" != blindrelay ]; then
    echo "[$TEST_NAME] blindrelay-specific; nothing to do for $BR_TEST_SERVER"
    exit 0
fi
need "$BUILD/blindrelay" "$UCLIENT_FRAMES" turnutils_uclient turnutils_peer haproxy openssl curl \
    /usr/bin/python3

PROBE=(/usr/bin/python3 "$(dirname "$0")/proxy_probe.py")
PORT=$(pick_stream_port 61250)
TLS_PORT=$(pick_stream_port $((PORT + 1)))
HP_PORT=$(pick_stream_port $((TLS_PORT + 1)))
HP_TLS_PORT=$(pick_stream_port $((HP_PORT + 1)))
ADMIN_PORT=$(pick_stream_port $((HP_TLS_PORT + 1)))
PEER_PORT=$(pick_port $((ADMIN_PORT + 1)))
USER=brtest
PASS=brtest-pass-1
NEEDLES=(127.0.0.7 127.0.0.8 127.0.0.5 192.0.2.44 192.0.2.45 192.0.2.99)

make_cert server proxy.test
spawn "$WORK/peer.log" turnutils_peer -L 127.0.0.1 -p "$PEER_PORT"

cat >"$WORK/haproxy.cfg" <<EOF
global
    maxconn 512
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend turn_tcp
    bind 127.0.0.1:$HP_PORT
    default_backend blindrelay_tcp
backend blindrelay_tcp
    server br 127.0.0.1:$PORT send-proxy-v2
frontend turn_tls
    bind 127.0.0.1:$HP_TLS_PORT
    default_backend blindrelay_tls
backend blindrelay_tls
    server br 127.0.0.1:$TLS_PORT send-proxy-v2
EOF
haproxy -c -f "$WORK/haproxy.cfg" >"$WORK/haproxy-check.log" 2>&1 ||
    die "haproxy refuses its configuration: $(tail -3 "$WORK/haproxy-check.log")"
spawn "$WORK/haproxy.log" haproxy -db -f "$WORK/haproxy.cfg"
wait_tcp "127.0.0.1:$HP_PORT"

COMMON=(--relay-ip 127.0.0.1 --relay-ports 61800-61849 --realm blindrelay.test
    --allow-peer 127.0.0.0/8 --admin-listen "127.0.0.1:$ADMIN_PORT" --user "$USER:$PASS"
    --proxy-protocol-from 127.0.0.1 --handshake-timeout 2)

failures() {
    curl -sf --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" |
        awk '$1 == "blindrelay_proxy_header_failures_total" { print $2 }'
}

# probe_binding LABEL EXPECT probe-args...: EXPECT is "mapped=ADDR",
# "mapped=self" (the probe's own address) or "closed".
probe_binding() {
    local label=$1 want=$2 out local
    shift 2
    out=$("${PROBE[@]}" binding "$@" 2>&1)
    local=$(echo "$out" | sed -n 's/^local=\([^ ]*\) .*/\1/p')
    NEEDLES+=("${local##*:}")
    [ "$want" = mapped=self ] && want="mapped=$local"
    if [ "${out#* }" = "$want" ]; then
        pass "$label: $want"
    else
        fail "$label: expected $want, got: $out"
    fi
}

# expect_failures LABEL BEFORE N: the failure counter moved by N.
expect_failures() {
    local after
    after=$(failures)
    if [ "$((after - $2))" -eq "$3" ]; then
        pass "$1: blindrelay_proxy_header_failures_total +$3"
    else
        fail "$1: blindrelay_proxy_header_failures_total moved by $((after - $2)), not $3"
    fi
}

# ---- a bad value stops the start, naming the key ----
for bad in 10.0.0.1/33 10.0.0.1/8 lb.example; do
    if out=$("$BUILD/blindrelay" --proxy-protocol-from "$bad" --admin-listen "" 2>&1); then
        fail "proxy-protocol-from $bad: blindrelay started"
    elif [[ "$out" == "blindrelay: --proxy-protocol-from: "* ]]; then
        pass "proxy-protocol-from $bad refused: ${out#blindrelay: }"
    else
        fail "proxy-protocol-from $bad: the error does not name the key: $out"
    fi
done

log "haproxy $HP_PORT -> tcp $PORT, haproxy $HP_TLS_PORT -> tls $TLS_PORT"
server_start_stream proxied "127.0.0.1:$PORT" "127.0.0.1:$TLS_PORT" "$WORK/server.pem" \
    "$WORK/server.key" "${COMMON[@]}"
grep -q "proxy protocol v2: TCP and TLS connections from 1 proxy range begin with a header" \
    "$SERVER_LOG" || fail "no start line for proxy-protocol-from"

# ---- through haproxy: the client is the one haproxy saw ----
probe_binding "haproxy tcp: XOR-MAPPED-ADDRESS of a client on 127.0.0.7" mapped=self \
    --to "127.0.0.1:$HP_PORT" --bind 127.0.0.7
probe_binding "haproxy tls: XOR-MAPPED-ADDRESS of a client on 127.0.0.7" mapped=self \
    --to "127.0.0.1:$HP_TLS_PORT" --bind 127.0.0.7 --tls
run_uclient() {
    local label=$1 out=$WORK/uclient-$1.log rc
    shift
    timeout 90 "${UCLIENT[@]}" -n 50 -m 4 -l 170 -z 5 -e 127.0.0.1 -r "$PEER_PORT" \
        -u "$USER" -w "$PASS" "$@" 127.0.0.1 >"$out" 2>&1
    rc=$?
    check_uclient_log "$label" "$out" "$rc"
}
run_uclient "uclient tcp through haproxy" -t -p "$HP_PORT"
run_uclient "uclient tls through haproxy" -t -S -p "$HP_TLS_PORT"

# ---- sent directly by the trusted address ----
probe_binding "trusted, header naming 192.0.2.44:4444" mapped=192.0.2.44:4444 \
    --to "127.0.0.1:$PORT" --header proxy4 --src 192.0.2.44:4444
probe_binding "trusted, header then TLS naming 192.0.2.45:4445" mapped=192.0.2.45:4445 \
    --to "127.0.0.1:$TLS_PORT" --header proxy4 --src 192.0.2.45:4445 --tls
probe_binding "trusted, LOCAL header: the proxy's own address" mapped=self \
    --to "127.0.0.1:$PORT" --header local
f0=$(failures)
probe_binding "trusted, no header: closed" closed --to "127.0.0.1:$PORT"
expect_failures "trusted, no header" "$f0" 1

# ---- an untrusted address may not send a header ----
probe_binding "untrusted 127.0.0.5, spoofed header (tcp): closed" closed \
    --to "127.0.0.1:$PORT" --bind 127.0.0.5 --header proxy4 --src 192.0.2.99:99
probe_binding "untrusted 127.0.0.5, spoofed header (tls): closed" closed \
    --to "127.0.0.1:$TLS_PORT" --bind 127.0.0.5 --header proxy4 --src 192.0.2.99:99 --tls
probe_binding "untrusted 127.0.0.5 without a header: served as before" mapped=self \
    --to "127.0.0.1:$PORT" --bind 127.0.0.5
probe_binding "untrusted 127.0.0.5 without a header, tls: served as before" mapped=self \
    --to "127.0.0.1:$TLS_PORT" --bind 127.0.0.5 --tls

# ---- bounded: over the bound at once, an unfinished header at handshake-timeout ----
f0=$(failures)
out=$("${PROBE[@]}" hold --to "127.0.0.1:$PORT" --header oversize --max 5)
if [[ "$out" =~ ^closed_after=0\. ]]; then
    pass "header over 512 bytes: $out"
else
    fail "header over 512 bytes: expected closed at once, got $out"
fi
expect_failures "header over the bound" "$f0" 1
f0=$(failures)
for target in "$PORT" "$TLS_PORT"; do
    out=$("${PROBE[@]}" hold --to "127.0.0.1:$target" --header partial --max 8)
    secs=${out#closed_after=}
    if [ "$secs" != "$out" ] && [ "${secs%.*}" -ge 1 ] && [ "${secs%.*}" -le 4 ]; then
        pass "unfinished header on $target: $out (handshake-timeout 2, checked once a second)"
    else
        fail "unfinished header on $target: expected closed after 2-4 s, got $out"
    fi
done
expect_failures "unfinished headers" "$f0" 2
server_stop

# ---- the per-address cap counts the header's client, not haproxy ----
log "max-connections-per-ip 3 through haproxy"
server_start_stream caps "127.0.0.1:$PORT" "127.0.0.1:$TLS_PORT" "$WORK/server.pem" \
    "$WORK/server.key" "${COMMON[@]}" --max-connections-per-ip 3
out=$("${PROBE[@]}" many --to "127.0.0.1:$HP_PORT" --groups 127.0.0.7:3,127.0.0.8:3,127.0.0.7:1)
if [ "$out" = "answered=3 closed=0 answered=3 closed=0 answered=0 closed=1" ]; then
    pass "3 from 127.0.0.7 and 3 from 127.0.0.8 served, a 4th from 127.0.0.7 closed"
else
    fail "per-address cap through haproxy: 3+3 then 1 from 127.0.0.7: $out"
fi
server_stop
cp "$WORK/proxied.log" "$WORK/all-server-output.log"
cat "$WORK/caps.log" >>"$WORK/all-server-output.log"

# ---- privacy: the server wrote none of its clients ----
leaked=0
for n in "${NEEDLES[@]}"; do
    [ -n "$n" ] || continue
    if grep -qF -- "$n" "$WORK/all-server-output.log"; then
        fail "the server's output names a client: '$n'"
        leaked=1
    fi
done
[ "$leaked" = 0 ] && pass "the server's output names none of ${#NEEDLES[@]} client addresses and ports"

finish
