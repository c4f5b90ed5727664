# udp-listen-buffer: the receive queue of every worker's UDP listening
# socket, as the kernel reports it (ss -uamn: rb in skmem, twice the bytes
# asked), is the configured one at start, follows a SIGHUP that changes it
# and one that removes it (back to the default, 4 MiB); an out-of-range
# value stops the server naming the key; datagrams the kernel drops for a
# full queue (server stopped, 3,000 sent) are counted in
# blindrelay_udp_listen_drops_total. blindrelay only, threads = 2.
# Ports 63700-63749.
source "$(dirname "$0")/lib.sh"

if [ "$BR_TEST_SERVER" != blindrelay ]; then
    echo "[$TEST_NAME] blindrelay-specific; nothing to do for $BR_TEST_SERVER"
    exit 0
fi
need "$BUILD/blindrelay" "$TESTCLIENT" ss curl

PORT=$(pick_port 63700)
ADMIN_PORT=$(pick_stream_port $((PORT + 1)))
CONF=$WORK/blindrelay.conf
RMEM_MAX=$(cat /proc/sys/net/core/rmem_max)
# Both sizes stay under the kernel's cap (212992 by default), so rb is
# exactly twice each.
SMALL=65536
LARGE=131072
[ "$RMEM_MAX" -ge "$LARGE" ] || die "net.core.rmem_max $RMEM_MAX is below $LARGE"
DEFAULT=4194304
[ "$DEFAULT" -le "$RMEM_MAX" ] || DEFAULT=$RMEM_MAX

# The rb of each UDP socket on PORT, one per line.
listen_rb() {
    ss -Huamn "sport = :$PORT" | grep -o 'rb[0-9]*' | sed 's/rb//'
}

# expect_rb LABEL BYTES: within 5 s, both workers' sockets report 2 * BYTES.
expect_rb() {
    local want=$(($2 * 2)) got
    for _ in $(seq 50); do
        got=$(listen_rb | sort -u | tr '\n' ' ')
        [ "$(listen_rb | wc -l)" -eq 2 ] && [ "$got" = "$want " ] && break
        sleep 0.1
    done
    if [ "$(listen_rb | wc -l)" -eq 2 ] && [ "$got" = "$want " ]; then
        pass "$1: both listening sockets rb $want"
    else
        fail "$1: rb of the listening sockets: '$got' ($(listen_rb | wc -l) sockets), want $want"
    fi
}

# hup LABEL: SIGHUP, then the reload line within 5 s.
hup() {
    local before
    before=$(grep -c "credentials and peer rules reloaded" "$SERVER_LOG")
    kill -HUP "$SERVER_PID"
    for _ in $(seq 50); do
        [ "$(grep -c "credentials and peer rules reloaded" "$SERVER_LOG")" -gt "$before" ] && return
        sleep 0.1
    done
    die "$1: no reload line within 5 s: $(tail -3 "$SERVER_LOG")"
}

echo "udp-listen-buffer = $SMALL" >"$CONF"
# The summed drop counter of /metrics (empty when the scrape fails).
listen_drops() {
    curl -sf --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" |
        awk '$1 == "blindrelay_udp_listen_drops_total" { print $2 }'
}

server_start listen "127.0.0.1:$PORT" --config "$CONF" --threads 2 --tcp false \
    --admin-listen "127.0.0.1:$ADMIN_PORT"
expect_rb "at start (udp-listen-buffer $SMALL)" "$SMALL"

drops=$(listen_drops)
[ "$drops" = 0 ] && pass "no drops counted at start" || fail "drops at start: '$drops'"
# Stopped, the server reads nothing: 3,000 Binding-sized datagrams from one
# socket (one worker's queue, 128 KiB) overflow it.
kill -STOP "$SERVER_PID"
/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(3000):
    s.sendto(b"\x00" * 200, ("127.0.0.1", int(sys.argv[1])))' "$PORT"
kill -CONT "$SERVER_PID"
for _ in $(seq 30); do
    drops=$(listen_drops)
    [ -n "$drops" ] && [ "$drops" -gt 0 ] && break
    sleep 0.2
done
if [ -n "$drops" ] && [ "$drops" -gt 1000 ] && [ "$drops" -le 3000 ]; then
    pass "a full listening queue's drops are counted ($drops of 3000)"
else
    fail "blindrelay_udp_listen_drops_total after 3000 datagrams into a stopped server: '$drops'"
fi

echo "udp-listen-buffer = $LARGE" >"$CONF"
hup "raised"
expect_rb "after SIGHUP (udp-listen-buffer $LARGE)" "$LARGE"
if grep -qxF "blindrelay: SIGHUP: udp-listen-buffer changed; applied" "$SERVER_LOG"; then
    pass "the reload names udp-listen-buffer as applied"
else
    fail "no 'SIGHUP: udp-listen-buffer changed; applied' line"
fi

: >"$CONF"
hup "removed"
expect_rb "after SIGHUP without the key (default, capped at rmem_max $RMEM_MAX)" "$DEFAULT"
expect_client "still answering" binding --server "127.0.0.1:$PORT"
server_stop

out=$("$BUILD/blindrelay" --listen "127.0.0.1:$PORT" --udp-listen-buffer 65535 2>&1)
rc=$?
if [ "$rc" -eq 2 ] &&
    [ "$out" = "blindrelay: --udp-listen-buffer: must be between 65536 and 1073741824" ]; then
    pass "an out-of-range value stops the server naming the key"
else
    fail "udp-listen-buffer 65535: exit $rc, '$out'"
fi
finish
