# No core dumps by default: blindrelay makes itself non-dumpable
# (PR_SET_DUMPABLE 0) and sets its core size limit, soft and hard, to 0
# before reading its configuration; core-dumps = true gives both back.
# Observed from outside: the core limit in /proc/PID/limits, and the owner
# of /proc/PID/status, which the kernel makes root:root for a non-dumpable
# process whatever user it runs as. As root the daemon is run as nobody
# (setpriv) so that the owner tells the two apart.
# blindrelay only. Ports 62950-62999, relay ports 64500-64509.
source "$(dirname "$0")/lib.sh"

need "$TESTCLIENT" "$BUILD/blindrelay"
if [ "$BR_TEST_SERVER" = coturn ]; then
    log "skipped: blindrelay's own process setting"
    exit 0
fi

PORT=$(pick_port 62950)
RUN_AS=()
BIN=$BUILD/blindrelay
if [ "$(id -u)" -eq 0 ]; then
    need setpriv
    RUN_AS=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
    ulimit -H -c unlimited
    # nobody may not reach the build directory (a tree under /root)
    chmod 711 "$WORK"
    mkdir -m 755 "$WORK/bin"
    cp "$BUILD/blindrelay" "$WORK/bin/"
    BIN=$WORK/bin/blindrelay
fi
ulimit -c "$(ulimit -H -c)"
UID_RUN=$( [ "$(id -u)" -eq 0 ] && echo 65534 || id -u)

# start NAME [flags...]: the daemon as UID_RUN; sets SERVER_PID.
start() {
    local name=$1
    shift
    SERVER_LOG=$WORK/$name.log
    spawn "$SERVER_LOG" "${RUN_AS[@]}" "$BIN" --listen "127.0.0.1:$PORT" \
        --admin-listen "" --relay-ip 127.0.0.1 --relay-ports 64500-64509 --threads 1 "$@"
    SERVER_PID=$LAST_PID
    for _ in $(seq 50); do
        kill -0 "$SERVER_PID" 2>/dev/null || die "$name: blindrelay exited: $(tail -3 "$SERVER_LOG")"
        "$TESTCLIENT" binding --server "127.0.0.1:$PORT" --timeout 1 >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "$name: blindrelay did not answer a Binding request"
}

# core_limit PID: "SOFT HARD" from /proc/PID/limits.
core_limit() {
    awk '/^Max core file size/ { print $5, $6 }' "/proc/$1/limits"
}

start default
limit=$(core_limit "$SERVER_PID")
owner=$(stat -c %u:%g "/proc/$SERVER_PID/status")
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$SERVER_PID/status")
if [ "$limit" = "0 0" ]; then
    pass "default: core size limit soft 0, hard 0"
else
    fail "default: core size limit (soft hard) is '$limit', not '0 0'"
fi
if [ "$uid" = "$UID_RUN" ] && [ "$owner" = 0:0 ]; then
    pass "default: not dumpable (runs as uid $uid, /proc/PID/status owned by $owner)"
else
    fail "default: dumpable: runs as uid $uid, /proc/PID/status owned by $owner (want 0:0)"
fi
server_stop

start enabled --core-dumps true
limit=$(core_limit "$SERVER_PID")
owner=$(stat -c %u:%g "/proc/$SERVER_PID/status")
if [ "$(ulimit -H -c)" = 0 ]; then
    log "core-dumps true: limit not checked: this shell's hard core limit is 0"
elif [ "${limit#* }" != 0 ]; then
    # only the hard limit: AddressSanitizer sets the soft one to 0 itself
    pass "core-dumps true: core size limit '$limit' (soft hard), the hard one as inherited"
else
    fail "core-dumps true: core size limit (soft hard) is '$limit'"
fi
if [ "$owner" = "$UID_RUN:$UID_RUN" ] || [ "$owner" = "$UID_RUN:$(id -g)" ]; then
    pass "core-dumps true: dumpable (/proc/PID/status owned by $owner)"
else
    fail "core-dumps true: /proc/PID/status owned by $owner, want the daemon's user $UID_RUN"
fi
server_stop

# A bad value fails at start naming the key.
if out=$("$BUILD/blindrelay" --core-dumps=maybe 2>&1); then
    fail "core-dumps maybe: accepted"
elif echo "$out" | grep -q "core-dumps"; then
    pass "core-dumps maybe: refused: $out"
else
    fail "core-dumps maybe: refused without naming the key: $out"
fi
finish
