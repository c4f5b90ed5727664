# Helpers for the integration tests (sourced, bash). Each test script is run
# by ctest as `bash test_x.sh BUILD_DIR`; exit 0 = pass.
#
# The server under test is blindrelay from BUILD_DIR by default. Set
# BR_TEST_SERVER=coturn to run the same script against coturn's turnserver
# (how these tests were validated before the daemon existed); the
# blindrelay-style flags given to server_start are translated for it.
#
# Network rule: everything stays on loopback; every process started here is
# killed on exit; every wait is bounded. Test ports are above the Linux
# ephemeral range (32768-60999), 62000-63999, one block per script.

set -u

BUILD=${1:?usage: bash $0 BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
BR_TEST_SERVER=${BR_TEST_SERVER:-blindrelay}
TESTCLIENT=$BUILD/br-testclient
TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "/tmp/br-${TEST_NAME}.XXXXXX")
PIDS=()
SERVER_PID=
SERVER_LOG=
FAILURES=0

lib_cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do
        # bounded: SIGKILL whatever is still there after 3 s
        for _ in $(seq 30); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [ "${KEEP_WORK:-0}" = 1 ]; then
        echo "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap lib_cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[$TEST_NAME] $*"; }
fail() {
    echo "[$TEST_NAME] FAIL: $*"
    FAILURES=$((FAILURES + 1))
}
die() {
    echo "[$TEST_NAME] FAIL: $*"
    exit 1
}
pass() { echo "[$TEST_NAME] ok: $*"; }

# Call last: the verdict.
finish() {
    if [ "$FAILURES" -ne 0 ]; then
        echo "[$TEST_NAME] $FAILURES check(s) failed (server: $BR_TEST_SERVER)"
        exit 1
    fi
    echo "[$TEST_NAME] all checks passed (server: $BR_TEST_SERVER)"
    exit 0
}

need() {
    local t
    for t in "$@"; do
        if [ "${t#/}" != "$t" ]; then
            [ -x "$t" ] || die "missing $t (build it first)"
        else
            command -v "$t" >/dev/null || die "missing tool $t (apt-get install coturn?)"
        fi
    done
}

# Starts a background process, remembering it for cleanup; sets LAST_PID.
spawn() {
    local out=$1
    shift
    "$@" >"$out" 2>&1 &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
}

# True if nothing listens on UDP port $1 on loopback.
udp_port_free() {
    ! ss -Hlun "sport = :$1" 2>/dev/null | grep -q .
}

# The first free UDP port in [$1, $1+50).
pick_port() {
    local p
    for p in $(seq "$1" $(($1 + 49))); do
        if udp_port_free "$p"; then
            echo "$p"
            return 0
        fi
    done
    die "no free UDP port near $1"
}

# Translates blindrelay flags to coturn's turnserver. Keys coturn has no
# equivalent for are dropped with a note. coturn allows 10/8 and TCP relays
# by default; it is told not to, to match blindrelay's defaults.
coturn_args() {
    local out=(-n --log-file=stdout --simple-log --no-cli --no-tls --no-dtls --no-tcp-relay --no-tcp
        --fingerprint
        --denied-peer-ip=10.0.0.0-10.255.255.255)
    local lt=0 k v
    while [ $# -gt 0 ]; do
        k=$1 v=${2:-}
        shift 2
        case $k in
        --listen) out+=(--listening-ip="${v%:*}" --listening-port="${v##*:}") ;;
        --relay-ip) out+=(--relay-ip="$v") ;;
        --relay-ports) out+=(--min-port="${v%-*}" --max-port="${v#*-}") ;;
        --realm) out+=(--realm="$v") ;;
        --user) out+=(--user="$v") lt=1 ;;
        --auth-secret) out+=(--use-auth-secret --static-auth-secret="$v") ;;
        --allow-peer) [ "$v" = 127.0.0.0/8 ] && out+=(--allow-loopback-peers) ;;
        --user-quota) out+=(--user-quota="$v") ;;
        --total-quota) out+=(--total-quota="$v") ;;
        --threads) out+=(--relay-threads="$v") ;;
        *) echo "[$TEST_NAME] (coturn: ignoring $k $v)" >&2 ;;
        esac
    done
    [ $lt = 1 ] && out+=(--lt-cred-mech)
    printf '%s\n' "${out[@]}"
}

# server_start NAME ADDR:PORT [blindrelay flags...]: starts the server under
# test listening on ADDR:PORT, waits (bounded) until it answers a Binding
# request. Output goes to $WORK/NAME.log (SERVER_LOG).
server_start() {
    local name=$1 listen=$2
    shift 2
    SERVER_LOG=$WORK/$name.log
    if [ "$BR_TEST_SERVER" = coturn ]; then
        local args
        mapfile -t args < <(coturn_args --listen "$listen" "$@")
        spawn "$SERVER_LOG" turnserver "${args[@]}"
    else
        # --user-quota 0: a test drives many sessions as one test user, and
        # turnutils_uclient leaves its UDP allocations to expire; a test of
        # the shipped user-quota (10) passes its own --user-quota or starts
        # the daemon itself
        spawn "$SERVER_LOG" "$BUILD/blindrelay" --listen "$listen" --admin-listen "" --user-quota 0 "$@"
    fi
    SERVER_PID=$LAST_PID
    for _ in $(seq 50); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "--- $name output:"
            tail -20 "$SERVER_LOG"
            die "$BR_TEST_SERVER exited at startup"
        fi
        if "$TESTCLIENT" binding --server "$listen" --timeout 1 >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    tail -20 "$SERVER_LOG"
    die "$BR_TEST_SERVER did not answer a Binding request on $listen within ~10 s"
}

# Stops the server with SIGTERM; it must exit by itself within 5 s with
# status 0 (blindrelay) and without sanitizer reports.
server_stop() {
    local pid=$SERVER_PID rc
    [ -n "$pid" ] || return 0
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null
        fail "$BR_TEST_SERVER died during the test (status $?)"
        tail -20 "$SERVER_LOG"
        SERVER_PID=
        return
    fi
    kill -TERM "$pid"
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        fail "$BR_TEST_SERVER ignored SIGTERM for 5 s"
        kill -KILL "$pid"
    fi
    wait "$pid"
    rc=$?
    SERVER_PID=
    if [ "$BR_TEST_SERVER" = blindrelay ] && [ $rc -ne 0 ]; then
        fail "blindrelay exited with status $rc on SIGTERM"
        tail -20 "$SERVER_LOG"
    fi
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$SERVER_LOG"; then
        fail "sanitizer report in $BR_TEST_SERVER output:"
        grep -m5 -A5 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$SERVER_LOG"
    fi
}

# Runs br-testclient (bounded by its own --timeout and an outer timeout);
# records a failure with its result line when it does not pass.
# Usage: expect_client "description" SCENARIO [options...]
expect_client() {
    local what=$1 out
    shift
    if out=$(timeout 60 "$TESTCLIENT" "$@" 2>&1); then
        pass "$what: $(echo "$out" | grep '^result=' | tail -1)"
    else
        fail "$what: br-testclient $*"
        echo "$out" | sed 's/^/    /'
    fi
}

# --- TURN over TCP and TLS -------------------------------------------------

# Debian's python3 (the tests' helpers use the standard library only).
# shellcheck disable=SC2034 # used by the scripts that source this file
PYTHON=${BR_PYTHON:-/usr/bin/python3}

# True if nothing listens on TCP or UDP port $1.
port_free() {
    udp_port_free "$1" && ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# The first port in [$1, $1+50) free for both UDP and TCP.
pick_stream_port() {
    local p
    for p in $(seq "$1" $(($1 + 49))); do
        if port_free "$p"; then
            echo "$p"
            return 0
        fi
    done
    die "no free UDP+TCP port near $1"
}

# make_cert NAME CN: a self-signed EC P-256 certificate for CN (valid two
# days) in $WORK/NAME.pem and its key in $WORK/NAME.key.
make_cert() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=$2" -keyout "$WORK/$1.key" -out "$WORK/$1.pem" >"$WORK/$1.openssl.log" 2>&1 ||
        die "openssl cannot make a certificate for $2: $(tail -1 "$WORK/$1.openssl.log")"
}

# wait_tcp ADDR:PORT: waits (at most ~5 s) until a TCP connect succeeds.
wait_tcp() {
    local host=${1%:*} port=${1##*:}
    for _ in $(seq 50); do
        if timeout 1 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    die "nothing accepts TCP connections on $1"
}

# tls_subject ADDR:PORT: the subject of the certificate a new TLS connection
# gets, as openssl prints it ("subject=CN = a.test"), or nothing.
tls_subject() {
    timeout 10 openssl s_client -connect "$1" -alpn stun.turn </dev/null 2>/dev/null |
        openssl x509 -noout -subject 2>/dev/null
}

# server_start_stream NAME ADDR:PORT TLS_ADDR:PORT CERT KEY [flags...]:
# server_start with the TCP listener on ADDR:PORT and a TLS listener; waits
# for both. Against coturn, --tcp/--tls-listen are translated to coturn's
# listening ports (coturn_args turns TCP and TLS off; they are turned back on).
server_start_stream() {
    local name=$1 listen=$2 tls=$3 cert=$4 key=$5
    shift 5
    if [ "$BR_TEST_SERVER" = coturn ]; then
        local args a
        mapfile -t args < <(coturn_args --listen "$listen" "$@" 2>/dev/null)
        local keep=()
        for a in "${args[@]}"; do
            case $a in --no-tls | --no-tcp) ;; *) keep+=("$a") ;; esac
        done
        SERVER_LOG=$WORK/$name.log
        spawn "$SERVER_LOG" turnserver "${keep[@]}" --tls-listening-port="${tls##*:}" \
            --cert="$cert" --pkey="$key"
        SERVER_PID=$LAST_PID
        for _ in $(seq 50); do
            "$TESTCLIENT" binding --server "$listen" --timeout 1 >/dev/null 2>&1 && break
            kill -0 "$SERVER_PID" 2>/dev/null || die "coturn exited at startup"
            sleep 0.1
        done
    else
        server_start "$name" "$listen" --tls-listen "$tls" --cert "$cert" --key "$key" "$@"
    fi
    wait_tcp "$listen"
    wait_tcp "$tls"
}

# coturn's turnutils_uclient as the tests run it: with tests/uclient/frames.c
# preloaded (built as $BUILD/br-uclient-frames.so; pass it to need). Over TLS
# uclient 4.6.1 takes each TLS record for one message: of a record holding
# two ChannelData frames it counts the first and silently drops the rest
# (blindrelay queues frames back to back, and on a loaded machine two go out
# in one record), so it reported relayed packets as lost. The shim hands it
# the decrypted stream one message at a time and changes no byte; without
# TLS it does nothing. Usage: timeout N "${UCLIENT[@]}" uclient-args...
UCLIENT_FRAMES=$BUILD/br-uclient-frames.so
# shellcheck disable=SC2034 # used by the scripts that source this file
UCLIENT=(env "LD_PRELOAD=$UCLIENT_FRAMES" turnutils_uclient)

# check_uclient_log LABEL LOG STATUS: asserts on the summary of a
# turnutils_uclient 4.6.1 run (STATUS is its exit status): it ran, every
# message sent came back (tot_send_msgs == tot_recv_msgs > 0) and
# "Total lost packets 0".
check_uclient_log() {
    local label=$1 out=$2 rc=$3 sent recv lost shared
    sent=$(sed -n 's/.*start_mclient: tot_send_msgs=\([0-9]*\), tot_recv_msgs=\([0-9]*\).*/\1/p' "$out" | tail -1)
    recv=$(sed -n 's/.*start_mclient: tot_send_msgs=\([0-9]*\), tot_recv_msgs=\([0-9]*\).*/\2/p' "$out" | tail -1)
    lost=$(sed -n 's/.*Total lost packets \([0-9]*\) (\([0-9.]*\)%).*/\1 \2/p' "$out" | tail -1)
    if [ "$rc" -ne 0 ] || [ -z "$sent" ] || [ -z "$lost" ]; then
        fail "$label: turnutils_uclient status $rc, no summary"
        grep -iE 'error|fail|cannot' "$out" | head -5 | sed 's/^/    /'
        tail -3 "$out" | sed 's/^/    /'
        return 1
    fi
    if [ "$recv" -eq 0 ] || [ "$recv" -ne "$sent" ] || [ "${lost%% *}" -ne 0 ]; then
        fail "$label: sent $sent, received $recv, lost ${lost%% *} (${lost#* }%)"
        return 1
    fi
    shared=$(sed -n 's/^br-uclient-frames: .* frames_sharing_a_record=\([0-9]*\)$/\1/p' "$out" | tail -1)
    pass "$label: sent $sent, received $recv, lost 0 (${lost#* }%)${shared:+, $shared frame(s) shared a TLS record}"
}
