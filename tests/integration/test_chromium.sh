#!/bin/bash
# A real browser through the TURN server: headless Chromium loads
# tests/browser/relay_test.html, whose two relay-only RTCPeerConnections
# exchange data channel messages both ways and fake camera video through the
# server, once per transport (TURN over UDP, TCP, TLS). Passes when, for each
# transport, both selected candidate pairs are relay/relay reached over that
# transport, every message arrived and the receiver decoded > MIN_FRAMES
# frames. "redirect" (blindrelay only): the server given to the browser is
# draining (SIGUSR1) and answers Allocate with 300 Try Alternate naming a
# second blindrelay; passes when the call goes through that second server
# (its relay port range) over UDP.
#
#   bash test_chromium.sh BUILD_DIR [udp] [tcp] [tls] [redirect]   (default: all)
#   BR_TEST_SERVER=coturn bash test_chromium.sh BUILD_DIR
#
# Chromium gathers no candidates on a loopback-only host and ignores TURN
# servers on loopback, so this test builds its own network: two network
# namespaces joined by a veth pair, the server in one (10.201.0.1), Chromium
# in the other (10.201.0.2). No traffic leaves them. See
# docs/testing-browsers.md. Needs root (ip netns) and the Debian packages
# chromium, chromium-driver, python3, iproute2, openssl.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

HERE=$(cd "$(dirname "$0")/.." && pwd)
DRIVER=$HERE/browser/driver.py
CHECK=$HERE/browser/check_result.py
PY=/usr/bin/python3
CHROMIUM=${BR_CHROMIUM:-/usr/lib/chromium/chromium}
CHROMEDRIVER=${BR_CHROMEDRIVER:-/usr/bin/chromedriver}
MIN_FRAMES=${BR_MIN_FRAMES:-10}
PER_TRANSPORT_TIMEOUT=${BR_BROWSER_TIMEOUT:-60}
# How Chromium comes to trust the TURN server's TLS certificate: "ca" (a CA
# made here, put in an NSS database under Chromium's $HOME, so the
# certificate is really verified, needs certutil from libnss3-tools) or
# "ignore" (--ignore-certificate-errors). Default: ca when certutil exists.
TLS_TRUST=${BR_TLS_TRUST:-}
if [ -z "$TLS_TRUST" ]; then
    TLS_TRUST=ignore
    command -v certutil >/dev/null && TLS_TRUST=ca
fi
case $TLS_TRUST in ca | ignore) ;; *) die "BR_TLS_TRUST must be ca or ignore" ;; esac
# Extra server flags (debugging, or proving the test can fail:
# BR_SERVER_EXTRA="--deny-peer 10.201.0.1" must make every transport fail).
read -r -a SERVER_EXTRA <<<"${BR_SERVER_EXTRA:-}"
shift
TRANSPORTS=("$@")
if [ ${#TRANSPORTS[@]} -eq 0 ]; then
    TRANSPORTS=(udp tcp tls)
    [ "$BR_TEST_SERVER" = coturn ] || TRANSPORTS+=(redirect)
fi
for t in "${TRANSPORTS[@]}"; do
    case $t in udp | tcp | tls | redirect) ;; *) die "unknown transport '$t' (udp, tcp, tls, redirect)" ;; esac
done

SERVER_IP=10.201.0.1
CLIENT_IP=10.201.0.2
PORT=3478
TLS_PORT=5349
ALT_PORT=3479 # the alternate server of the redirect run
ALT_RELAY_PORTS=51000-51999
# admin endpoints, on the server namespace's own loopback: read on failure
ADMIN_PORT=9641
ALT_ADMIN_PORT=9642
NS_S=br-test-$$-srv
NS_C=br-test-$$-cli
VETH_S=brt$$s
VETH_C=brt$$c
NETNS_MADE=0

[ "$(id -u)" -eq 0 ] || die "needs root (ip netns add)"
for f in "$CHROMIUM" "$CHROMEDRIVER"; do
    [ -x "$f" ] || die "missing $f (apt-get install chromium chromium-driver)"
done
need ip openssl ss timeout "$PY"
if [ "$BR_TEST_SERVER" = coturn ]; then
    need turnserver
else
    need "$BUILD/blindrelay"
fi

# (Both functions below run from the EXIT trap.)
# shellcheck disable=SC2317
# Kills everything still running in our namespaces (the browser and its
# helpers, the server): these are processes this script started.
netns_kill() {
    local ns pids
    for ns in "$NS_C" "$NS_S"; do
        pids=$(ip netns pids "$ns" 2>/dev/null) || continue
        [ -n "$pids" ] || continue
        # shellcheck disable=SC2086
        kill -TERM $pids 2>/dev/null
        for _ in $(seq 30); do
            [ -n "$(ip netns pids "$ns" 2>/dev/null)" ] || break
            sleep 0.1
        done
        pids=$(ip netns pids "$ns" 2>/dev/null)
        # shellcheck disable=SC2086
        [ -z "$pids" ] || kill -KILL $pids 2>/dev/null
    done
}

# shellcheck disable=SC2317
chromium_cleanup() {
    lib_cleanup
    if [ "$NETNS_MADE" = 1 ]; then
        netns_kill
        # Deleting a namespace deletes the veth end in it, and so the pair.
        ip netns del "$NS_C" 2>/dev/null
        ip netns del "$NS_S" 2>/dev/null
    fi
}
trap chromium_cleanup EXIT

# Two namespaces, one veth pair between them; only lo and the veth in each.
NETNS_MADE=1
ip netns add "$NS_S" || die "ip netns add failed"
ip netns add "$NS_C" || die "ip netns add failed"
ip link add "$VETH_S" netns "$NS_S" type veth peer name "$VETH_C" netns "$NS_C" ||
    die "cannot create the veth pair"
ip -n "$NS_S" addr add "$SERVER_IP/24" dev "$VETH_S"
ip -n "$NS_C" addr add "$CLIENT_IP/24" dev "$VETH_C"
for ns in "$NS_S" "$NS_C"; do
    ip -n "$ns" link set lo up
done
ip -n "$NS_S" link set "$VETH_S" up
ip -n "$NS_C" link set "$VETH_C" up
log "namespaces $NS_S ($SERVER_IP) and $NS_C ($CLIENT_IP), server: $BR_TEST_SERVER"

# The TLS listener's certificate, for the server's IP, signed by a CA of
# this run (ca) or self-signed (ignore). Chromium runs with HOME=$WORK/home,
# so its NSS database is $WORK/home/.pki/nssdb.
CHROME_HOME=$WORK/home
mkdir -p "$CHROME_HOME"
EXTRA_FLAGS=()
make_certs() {
    local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    if [ "$TLS_TRUST" = ignore ]; then
        openssl req -x509 "${ec[@]}" -days 2 -subj "/CN=$SERVER_IP" \
            -addext "subjectAltName=IP:$SERVER_IP" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" &&
            EXTRA_FLAGS=(--flag=--ignore-certificate-errors)
        return
    fi
    openssl req -x509 "${ec[@]}" -days 2 -subj "/CN=blindrelay test CA $$" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$WORK/ca.key" -out "$WORK/ca.pem" &&
        openssl req "${ec[@]}" -subj "/CN=$SERVER_IP" -keyout "$WORK/key.pem" -out "$WORK/server.csr" &&
        printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' \
            "$SERVER_IP" >"$WORK/server.ext" &&
        openssl x509 -req -in "$WORK/server.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" \
            -CAcreateserial -days 2 -extfile "$WORK/server.ext" -out "$WORK/cert.pem" &&
        mkdir -p "$CHROME_HOME/.pki/nssdb" &&
        certutil -d "sql:$CHROME_HOME/.pki/nssdb" -N --empty-password &&
        certutil -d "sql:$CHROME_HOME/.pki/nssdb" -A -n "blindrelay test CA" -t C,, -i "$WORK/ca.pem"
}
make_certs >"$WORK/certs.log" 2>&1 || die "could not make the certificates: $(cat "$WORK/certs.log")"
log "TLS trust: $TLS_TRUST"

# listening NS PROTO PORT: true when something listens on PROTO (tcp|udp) PORT in NS.
listening() {
    local flag=-Hltn
    [ "$2" = udp ] && flag=-Hlun
    ip netns exec "$1" ss $flag "sport = :$3" 2>/dev/null | grep -q .
}

# start_server TRANSPORT [blindrelay flags]: the server under test in $NS_S,
# ready when its listener for TRANSPORT is up. Returns 1 (after logging why)
# if it is not.
start_server() {
    local t=$1 name=server-$1 proto=udp port=$PORT
    shift
    SERVER_LOG=$WORK/$name.log
    case $t in
    tcp) proto=tcp ;;
    tls) proto=tcp port=$TLS_PORT ;;
    esac
    if [ "$BR_TEST_SERVER" = coturn ]; then
        local tls=(--no-tls)
        [ "$t" = tls ] && tls=(--tls-listening-port="$TLS_PORT" --cert="$WORK/cert.pem" --pkey="$WORK/key.pem")
        spawn "$SERVER_LOG" ip netns exec "$NS_S" turnserver -n --log-file=stdout --simple-log \
            --no-cli --no-dtls --no-tcp-relay --pidfile="$WORK/turnserver.pid" \
            --listening-ip="$SERVER_IP" --listening-port="$PORT" "${tls[@]}" \
            --relay-ip="$SERVER_IP" --min-port=50000 --max-port=50999 \
            --lt-cred-mech --user=u:p --realm=test --fingerprint \
            --allowed-peer-ip=10.201.0.0-10.201.0.255 "${SERVER_EXTRA[@]}"
    else
        local tls=()
        [ "$t" = tls ] && tls=(--tls-listen "$SERVER_IP:$TLS_PORT" --cert "$WORK/cert.pem" --key "$WORK/key.pem")
        spawn "$SERVER_LOG" ip netns exec "$NS_S" "$BUILD/blindrelay" \
            --listen "$SERVER_IP:$PORT" "${tls[@]}" --relay-ip "$SERVER_IP" \
            --relay-ports 50000-50999 --user u:p --user-quota 0 --realm test \
            --admin-listen "127.0.0.1:$ADMIN_PORT" "${SERVER_EXTRA[@]}" "$@"
    fi
    SERVER_PID=$LAST_PID
    local ready_ticks=0
    for _ in $(seq 100); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            wait "$SERVER_PID" 2>/dev/null
            fail "$t: $BR_TEST_SERVER exited at startup (status $?):"
            tail -20 "$SERVER_LOG" | sed 's/^/    /'
            SERVER_PID=
            return 1
        fi
        if listening "$NS_S" "$proto" "$port"; then
            return 0
        fi
        # blindrelay says "ready" once every listener is open: no need to
        # wait the full 10 s for one it will never open.
        if grep -q '^blindrelay: ready' "$SERVER_LOG" 2>/dev/null; then
            ready_ticks=$((ready_ticks + 1))
            [ $ready_ticks -lt 5 ] || break
        fi
        sleep 0.1
    done
    fail "$t: $BR_TEST_SERVER has no $proto listener on $SERVER_IP:$port (TURN over $t not supported?)"
    tail -20 "$SERVER_LOG" | sed 's/^/    /'
    server_stop
    return 1
}

# server_counters TRANSPORT: what the server counted (traffic, drops,
# errors), for the diagnosis of a failed run.
server_counters() {
    local port=$ADMIN_PORT
    [ "$1" = redirect ] && port=$ALT_ADMIN_PORT
    echo "    --- blindrelay counters (admin 127.0.0.1:$port in $NS_S):"
    ip netns exec "$NS_S" curl -s --max-time 3 "http://127.0.0.1:$port/metrics" |
        grep -E '^blindrelay_(packets_relayed|packets_dropped|error_responses|allocations_active|permissions_active|channels_active|stream_)' |
        grep -v ' 0$' | sed 's/^/    /'
}

# start_alternate: the second blindrelay of the redirect run (ALT_PID).
start_alternate() {
    spawn "$WORK/alternate.log" ip netns exec "$NS_S" "$BUILD/blindrelay" \
        --listen "$SERVER_IP:$ALT_PORT" --relay-ip "$SERVER_IP" --relay-ports "$ALT_RELAY_PORTS" \
        --user u:p --user-quota 0 --realm test --admin-listen "127.0.0.1:$ALT_ADMIN_PORT" "${SERVER_EXTRA[@]}"
    ALT_PID=$LAST_PID
    for _ in $(seq 100); do
        listening "$NS_S" udp "$ALT_PORT" && return 0
        sleep 0.1
    done
    fail "redirect: the alternate server did not start"
    return 1
}

# run_transport TRANSPORT: one browser run against a fresh server.
run_transport() {
    local t=$1 url dir=$WORK/$1 start end rc proto=$1 ports=()
    mkdir -p "$dir"
    case $t in
    udp) url="turn:$SERVER_IP:$PORT?transport=udp" ;;
    tcp) url="turn:$SERVER_IP:$PORT?transport=tcp" ;;
    tls) url="turns:$SERVER_IP:$TLS_PORT?transport=tcp" ;;
    redirect) url="turn:$SERVER_IP:$PORT?transport=udp" proto=udp ports=("$ALT_RELAY_PORTS") ;;
    esac
    start=$(date +%s.%N)
    if [ "$t" = redirect ]; then
        start_alternate || return
        start_server "$t" --alternate-server "$SERVER_IP:$ALT_PORT" || return
        kill -USR1 "$SERVER_PID"
        sleep 1.2 # the workers take the drain at their next tick
    elif ! start_server "$t"; then
        return
    fi
    log "$t: $url"
    # The page gives up after PER_TRANSPORT_TIMEOUT - 20 s; timeout(1) bounds
    # the rest. In the background so that INT/TERM interrupt the wait at once.
    HOME=$CHROME_HOME timeout -k 5 "$PER_TRANSPORT_TIMEOUT" ip netns exec "$NS_C" "$PY" "$DRIVER" \
        --url "$url" --user u --password p --min-frames "$MIN_FRAMES" \
        --timeout $((PER_TRANSPORT_TIMEOUT - 20)) --log-dir "$dir" \
        "${EXTRA_FLAGS[@]}" \
        >"$dir/result.json" 2>"$dir/driver.log" &
    PIDS+=($!)
    wait $!
    rc=$?
    end=$(date +%s.%N)
    [ $rc -eq 124 ] && fail "$t: the browser run hit the ${PER_TRANSPORT_TIMEOUT} s timeout"
    if [ $rc -eq 2 ] || [ $rc -ge 124 ]; then
        sed 's/^/    /' "$dir/driver.log"
    fi
    "$PY" "$CHECK" "$dir/result.json" "$proto" "$MIN_FRAMES" "${ports[@]}" >"$dir/verdict.txt"
    rc=$?
    sed "s/^/[$TEST_NAME] $t: /" "$dir/verdict.txt"
    if [ $rc -ne 0 ]; then
        fail "$t: Chromium did not get through $BR_TEST_SERVER over $t"
        echo "    --- $BR_TEST_SERVER log (last 30 lines):"
        tail -30 "$SERVER_LOG" | sed 's/^/    /'
        [ "$BR_TEST_SERVER" = blindrelay ] && server_counters "$t"
    fi
    # Whatever the driver left behind in the client namespace goes now.
    local pids
    pids=$(ip netns pids "$NS_C" 2>/dev/null)
    # shellcheck disable=SC2086
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null
    server_stop
    if [ "$t" = redirect ]; then
        kill -TERM "$ALT_PID" 2>/dev/null
        wait "$ALT_PID" 2>/dev/null
    fi
    log "$t: took $(awk "BEGIN{printf \"%.1f\", $end - $start}") s"
}

for t in "${TRANSPORTS[@]}"; do
    run_transport "$t"
done
finish
