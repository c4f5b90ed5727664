# No reflection gain (issue 8): the smallest unauthenticated request of
# every kind that draws an answer gets one at most 4x its size (Binding
# 2x; a bare IPv6 Binding 2x in IP datagrams), over IPv4 and IPv6, and
# while draining (300). reflection.py sends and measures.
# blindrelay only. Ports 61300-61349.
source "$(dirname "$0")/lib.sh"

if [ "$BR_TEST_SERVER" != blindrelay ]; then
    echo "[$TEST_NAME] blindrelay-specific; nothing to do for $BR_TEST_SERVER"
    exit 0
fi
need "$BUILD/blindrelay" "$TESTCLIENT" "$PYTHON"

PORT=$(pick_port 61300)
COMMON=(--relay-ip 127.0.0.1 --relay-ports 64500-64509 --user r:pw)

# reflect LABEL ARGS...: runs reflection.py, one pass/fail per case
reflect() {
    local label=$1 out line
    shift
    out=$(timeout 60 "$PYTHON" "$(dirname "$0")/reflection.py" "$@" 2>&1)
    while IFS= read -r line; do
        case $line in
        "ok   "*) pass "$label: ${line#ok   }" ;;
        "FAIL "*) fail "$label: ${line#FAIL }" ;;
        *) fail "$label: $line" ;;
        esac
    done <<<"$out"
}

V6=0
ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128' && V6=1
if [ $V6 = 1 ]; then
    server_start main "127.0.0.1:$PORT" --listen "[::1]:$PORT" "${COMMON[@]}"
else
    log "no IPv6 loopback: IPv4 only"
    server_start main "127.0.0.1:$PORT" "${COMMON[@]}"
fi
reflect "default realm" 127.0.0.1 "$PORT"
[ $V6 = 1 ] && reflect "default realm" ::1 "$PORT"
server_stop

log "the longest realm the configuration accepts (32 characters)"
server_start long "127.0.0.1:$PORT" "${COMMON[@]}" --realm rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr
reflect "32-char realm" 127.0.0.1 "$PORT"
server_stop

log "draining: a new Allocate gets 300 with an alternate server"
V6_LISTEN=()
[ $V6 = 1 ] && V6_LISTEN=(--listen "[::1]:$PORT")
server_start drain "127.0.0.1:$PORT" "${V6_LISTEN[@]}" "${COMMON[@]}" \
    --alternate-server 127.0.0.9:3478 --alternate-server "[2001:db8::9]:3478"
kill -USR1 "$SERVER_PID"
sleep 1.5 # workers take the drain flag at their once-a-second tick
reflect "draining" 127.0.0.1 "$PORT" --drain
[ $V6 = 1 ] && reflect "draining" ::1 "$PORT" --drain
server_stop

finish
