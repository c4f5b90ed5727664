# udp-listen-buffer: the receive queue of every worker's UDP listening
# socket, as the kernel reports it (ss -uamn: rb in skmem, twice the bytes
# asked), is the configured one at start, follows a SIGHUP that changes it
# and one that removes it (back to the default, 4 MiB); an out-of-range
# value stops the server naming the key. blindrelay only, threads = 2.
# Ports 63700-63749.
source "$(dirname "$0")/lib.sh"

if [ "$BR_TEST_SERVER" != blindrelay ]; then
    echo "[$TEST_NAME] blindrelay-specific; nothing to do for $BR_TEST_SERVER"
    exit 0
fi
need "$BUILD/blindrelay" "$TESTCLIENT" ss

PORT=$(pick_port 63700)
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
server_start listen "127.0.0.1:$PORT" --config "$CONF" --threads 2 --tcp false
expect_rb "at start (udp-listen-buffer $SMALL)" "$SMALL"

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
