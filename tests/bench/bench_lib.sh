# shellcheck shell=bash
# Helpers for tests/bench/run_benchmark.sh (sourced, bash).
#
# Rules kept here: loopback only; every process started is remembered by PID
# and only those PIDs are ever signalled; every wait is bounded.

BL_PIDS=()          # every PID this script started, for the exit trap
BL_SERVER_PID=      # the server (or forwarder) currently running
BL_WORK=${BL_WORK:-}

bl_log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }

bl_cleanup() {
    local pid
    for pid in "${BL_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${BL_PIDS[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    BL_PIDS=()
}

# A free UDP+TCP port below the ephemeral range (32768-60999) and away from
# the relay range (40000-60999) and from the integration tests (62000-63999).
bl_port() {
    local p
    for _ in $(seq 200); do
        p=$((21000 + RANDOM % 11000))
        if ! ss -Hlnua 2>/dev/null | awk '{print $5}' | grep -q ":$p\$" &&
            ! ss -Hlnt 2>/dev/null | awk '{print $4}' | grep -q ":$p\$"; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# bl_udp_bound PORT: true once something listens on 127.0.0.1:PORT/udp.
bl_udp_bound() {
    ss -Hlnu 2>/dev/null | awk '{print $4}' | grep -q "^127\.0\.0\.1:$1\$"
}

# bl_wait_bound PID PORT SECONDS
bl_wait_bound() {
    local pid=$1 port=$2 tenths=$(($3 * 10))
    for _ in $(seq "$tenths"); do
        kill -0 "$pid" 2>/dev/null || return 1
        bl_udp_bound "$port" && return 0
        sleep 0.1
    done
    return 1
}

# BL_COTURN: coturn's turnserver binary (default: the one on PATH).
# BL_SECRET: when set, both servers take TURN REST credentials with this
# shared secret instead of the static user u:p.
BL_COTURN=${BL_COTURN:-turnserver}
BL_SECRET=${BL_SECRET:-}

# bl_server_cmd KIND WORKERS PORT: prints nothing, fills BL_CMD (an array).
# KIND: blindrelay | blindrelay-nogso (--udp-gso false) | coturn | forwarder.
# The server is pinned to core 0.
bl_server_cmd() {
    local kind=$1 n=$2 port=$3 br_auth=(--user u:p) ct_auth=(--user=u:p --lt-cred-mech)
    if [ -n "$BL_SECRET" ]; then
        br_auth=(--auth-secret "$BL_SECRET")
        ct_auth=(--use-auth-secret --static-auth-secret="$BL_SECRET")
    fi
    case $kind in
    blindrelay | blindrelay-nogso)
        # one credential for every client, and more allocations than a
        # 20000-descriptor limit derives: no quotas, as coturn's defaults
        BL_CMD=("$BUILD/blindrelay" --listen "127.0.0.1:$port" "${br_auth[@]}" --realm test
            --user-quota 0 --total-quota 0
            --allow-peer 127.0.0.0/8 --relay-ip 127.0.0.1 --relay-ports 40000-60999
            --threads "$n" --admin-listen "")
        [ "$kind" = blindrelay ] || BL_CMD+=(--udp-gso false)
        ;;
    coturn)
        BL_CMD=("$BL_COTURN" -n --log-file=stdout --simple-log --no-cli --no-tls --no-dtls
            --listening-ip=127.0.0.1 --listening-port="$port" --relay-ip=127.0.0.1
            --min-port=40000 --max-port=60999 --realm=test "${ct_auth[@]}"
            --allow-loopback-peers --relay-threads="$n" --no-tcp-relay)
        ;;
    forwarder)
        BL_CMD=("$BUILD/udp-forwarder" --listen "127.0.0.1:$port" --duration 900)
        ;;
    *)
        return 1
        ;;
    esac
}

# bl_start KIND WORKERS PORT [WRAPPER...]: starts the server on core 0 with
# its output in $BL_WORK/server.log (coturn's per-session log goes to
# /dev/null), waits until its port is bound. Sets BL_SERVER_PID.
bl_start() {
    local kind=$1 n=$2 port=$3 limit=10 out
    shift 3
    bl_server_cmd "$kind" "$n" "$port" || return 1
    [ "$kind" = coturn ] && limit=30 # 4.17 binds after its relay ports are set up (5 s)
    [ $# -gt 0 ] && limit=60          # under valgrind
    out=$BL_WORK/server.log
    [ "$kind" = coturn ] && out=/dev/null # one log line per session
    : >"$BL_WORK/server.log"
    # ulimit -n: 10,000 idle allocations need 10,000 relay sockets
    (
        ulimit -n 20000 2>/dev/null
        exec taskset -c 0 "$@" "${BL_CMD[@]}"
    ) >"$out" 2>>"$BL_WORK/server.log" </dev/null &
    BL_SERVER_PID=$!
    BL_PIDS+=("$BL_SERVER_PID")
    if ! bl_wait_bound "$BL_SERVER_PID" "$port" "$limit"; then
        bl_log "$kind did not start on port $port:"
        tail -5 "$BL_WORK/server.log" >&2
        bl_stop
        return 1
    fi
    # coturn binds its listener before its relay threads are up
    sleep 0.3
    return 0
}

# bl_stop: SIGTERM the current server, SIGKILL after 20 s (callgrind writes
# its profile at exit, which takes a moment). Only this PID is signalled.
bl_stop() {
    local pid=$BL_SERVER_PID p keep=()
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 200); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    for p in "${BL_PIDS[@]}"; do
        [ "$p" = "$pid" ] || keep+=("$p")
    done
    BL_PIDS=("${keep[@]}")
    BL_SERVER_PID=
}

# bl_cpu_ticks PID: utime+stime of the whole process (all threads), in clock
# ticks. Fields 14 and 15 of /proc/PID/stat, counted after the ')' of comm.
bl_cpu_ticks() {
    local s
    read -r s <"/proc/$1/stat" 2>/dev/null || {
        echo 0
        return
    }
    s=${s##*) }
    set -- $s
    echo $((${12} + ${13}))
}

# bl_status_kb PID FIELD: a kB value from /proc/PID/status (VmRSS, VmHWM...).
bl_status_kb() {
    awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null
}

bl_fds() {
    ls "/proc/$1/fd" 2>/dev/null | wc -l
}

# bl_kv "k1=v1 k2=v2" KEY: the value of KEY in a summary line.
bl_kv() {
    local line=$1 key=$2 w
    for w in $line; do
        if [ "${w%%=*}" = "$key" ]; then
            echo "${w#*=}"
            return 0
        fi
    done
    echo ""
}

# bl_median V...: the median of numbers (mean of the middle two when even).
bl_median() {
    [ $# -gt 0 ] || {
        echo ""
        return
    }
    printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {
        if (NR % 2) printf "%g\n", v[(NR + 1) / 2];
        else printf "%g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bl_ratio A B [DIGITS]: A/B, or "n/a".
bl_ratio() {
    awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN {
        if (a == "" || b == "" || b + 0 == 0) print "n/a";
        else printf "%.*fx\n", d, a / b }'
}

# bl_fmt NUMBER [DIGITS]
bl_fmt() {
    awk -v a="$1" -v d="${2:-0}" 'BEGIN { if (a == "") print "n/a"; else printf "%.*f\n", d, a }'
}
