# SIGHUP and every configuration key: the test changes every key of the
# table (blindrelay --print-keys) in the config file (numbers and booleans
# it does not probe get a value from --print-keys itself: a new key of that
# kind needs no line here), sends SIGHUP, and
# checks that each key marked "restart" is named in a "changed; it takes
# effect at the next start" line and each key marked "reload" in a
# "changed; applied" line, never with its value. Where the effect can be
# seen from outside it is measured before and after the reload:
# max-permissions (508), max-channels (508), rfc5766-channels (400),
# default-lifetime and max-lifetime (LIFETIME granted), user-quota and
# total-quota (486), realm (401's REALM), unauth-rate (answers to a Binding
# burst), max-bps (Send indications reaching the peer), idle-timeout and
# handshake-timeout (silent TCP/TLS connections closed), max-connections-
# per-ip (connections kept), admin-token-file (/metrics wants the new
# token), cert and key (the new certificate), alternate-server (300 while
# draining), drain-timeout (SIGTERM's deadline); and restart-only keys
# (tcp, admin-listen) are seen not applied. blindrelay only, threads = 2 so
# that every worker must take the new values. Ports 61100-61149, relay
# ports 64300-64399.
source "$(dirname "$0")/lib.sh"

if [ "$BR_TEST_SERVER" != blindrelay ]; then
    echo "[$TEST_NAME] blindrelay-specific; nothing to do for $BR_TEST_SERVER"
    exit 0
fi
need "$BUILD/blindrelay" "$TESTCLIENT" /usr/bin/python3 openssl curl

PROBE="/usr/bin/python3 $(dirname "$0")/reload_probe.py"
PORT=$(pick_stream_port 61100)
TLS_PORT=$(pick_stream_port $((PORT + 1)))
ADMIN_PORT=$(pick_stream_port $((TLS_PORT + 1)))
OTHER_PORT=$(pick_stream_port $((ADMIN_PORT + 1)))
OTHER_TLS_PORT=$(pick_stream_port $((OTHER_PORT + 1)))
OTHER_ADMIN_PORT=$(pick_stream_port $((OTHER_TLS_PORT + 1)))
SERVER=127.0.0.1:$PORT
TLS=127.0.0.1:$TLS_PORT
METRICS=http://127.0.0.1:$ADMIN_PORT/metrics
CONF=$WORK/blindrelay.conf
SERVER_LOG=$WORK/server.log

make_cert a a.test
make_cert b b.test
echo "token-one-$$" >"$WORK/token1"
echo "token-two-$$" >"$WORK/token2"
echo "secret-one" >"$WORK/secrets1"
echo "secret-two" >"$WORK/secrets2"

# The keys every configuration here shares; what a phase changes is added.
{
    echo "realm = keys.test"
    for i in $(seq 1 60); do echo "user = u$i:p$i-pass"; done
    echo "allow-peer = 127.0.0.0/8"
} >"$WORK/common.conf"

cat "$WORK/common.conf" - >"$CONF" <<EOF
listen = $SERVER
tls-listen = $TLS
cert = $WORK/a.pem
key = $WORK/a.key
relay-ports = 64300-64399
threads = 2
admin-listen = 127.0.0.1:$ADMIN_PORT
admin-token-file = $WORK/token1
EOF

spawn "$SERVER_LOG" "$BUILD/blindrelay" --config "$CONF"
SERVER_PID=$LAST_PID
wait_tcp "$SERVER"
wait_tcp "$TLS"

# Each probe sends from its own 127.0.N.1 as its own user uN, so that
# neither the unauthenticated rate limit (per /24) nor user-quota one probe
# uses up stands in the way of the next.
# (probes run in $(...) subshells: the counter lives in a file)
echo 10 >"$WORK/net"
next_net() {
    NET=$(($(cat "$WORK/net") + 1))
    echo "$NET" >"$WORK/net"
}
probe() { # probe [--user U --password P] NAME ARGS...
    next_net
    $PROBE --server "$SERVER" --bind "127.0.$NET.1" --user "u$NET" --password "p$NET-pass" \
        "$@" 2>>"$WORK/probe.err"
}
probe_tls() {
    next_net
    $PROBE --server "$TLS" --bind "127.0.$NET.1" "$@" 2>>"$WORK/probe.err"
}
metrics_code() { # metrics_code TOKEN
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $1" "$METRICS"
}
expect_eq() { # expect_eq LABEL GOT WANT
    if [ "$2" = "$3" ]; then pass "$1: $2"; else fail "$1: got '$2', want '$3'"; fi
}
expect_le() { # expect_le LABEL GOT MAX
    if [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -le "$3" ]; then
        pass "$1: $2 (at most $3)"
    else
        fail "$1: got '$2', want at most $3"
    fi
}

# ---- before: the starting values are in effect ----
expect_eq "before: 3 permissions (max-permissions 32)" "$(probe perms 3)" 0
expect_eq "before: 2 channels (max-channels 64)" "$(probe channels 2)" 0
expect_eq "before: channel 0x5000 (rfc5766-channels true)" "$(probe channel 5000)" 0
expect_eq "before: lifetime granted by default" "$(probe lifetime)" 600
expect_eq "before: lifetime 3600 asked" "$(probe lifetime 3600)" 3600
expect_eq "before: two allocations of one user (no quota)" \
    "$(probe quota u1:p1-pass u1:p1-pass)" "0 0"
expect_eq "before: realm" "$(probe realm)" keys.test
expect_eq "before: 10 Bindings at once all answered (unauth-rate 100)" "$(probe unauth 10)" 10
expect_eq "before: 10 Send indications of 1000 bytes relayed (max-bps 0)" \
    "$(probe bps 10 1000)" 10
expect_eq "before: a silent TCP connection still open after 2.5 s (idle-timeout 30)" \
    "$(probe idle 2.5)" open
expect_eq "before: a silent TLS connection still open after 2.5 s (handshake-timeout 10)" \
    "$(probe_tls idle 2.5)" open
expect_eq "before: 4 TCP connections from one address (max-connections-per-ip 32)" \
    "$(probe conns 4)" 4
expect_eq "before: /metrics with token one" "$(metrics_code "token-one-$$")" 200
expect_eq "before: certificate" "$(tls_subject "$TLS" | sed 's/.*CN *= *//')" a.test

# hup_and_wait: SIGHUP, then wait (at most 5 s) for one more reload line,
# and a little more for the workers' next tick (once a second).
hup_and_wait() {
    local before
    before=$(grep -c "credentials and peer rules reloaded" "$SERVER_LOG")
    kill -HUP "$SERVER_PID"
    for _ in $(seq 50); do
        [ "$(grep -c "credentials and peer rules reloaded" "$SERVER_LOG")" -gt "$before" ] && break
        sleep 0.1
    done
    [ "$(grep -c "credentials and peer rules reloaded" "$SERVER_LOG")" -gt "$before" ] ||
        die "no reload line within 5 s: $(tail -3 "$SERVER_LOG")"
    sleep 1.5
}

# auto_values CONF: a changed value for every number (N) and boolean key
# of blindrelay --print-keys that CONF does not set: its default plus one
# (minus one at the top of its range), or the other truth value.
auto_values() {
    local key def mark form range
    while IFS=$'\t' read -r key def mark form range; do
        grep -qE "^$key *=" "$1" && continue
        case $form in
        N)
            if [ "$def" -lt "${range#*-}" ]; then
                echo "$key = $((def + 1))"
            else
                echo "$key = $((def - 1))"
            fi
            ;;
        "[BOOL]") if [ "$def" = true ]; then echo "$key = false"; else echo "$key = true"; fi ;;
        esac
    done < <("$BUILD/blindrelay" --print-keys)
}

# ---- every key changed ----
# The keys with other values, and those whose effect is probed below.
cat "$WORK/common.conf" - >"$CONF" <<EOF
listen = $SERVER
listen = 127.0.0.1:$OTHER_PORT
tls-listen = $TLS
tls-listen = 127.0.0.1:$OTHER_TLS_PORT
relay-ip = 127.0.0.1
external-ip = 127.0.0.1
relay-ports = 64300-64350
admin-listen = 127.0.0.1:$OTHER_ADMIN_PORT
tcp = false
realm = other.test
auth-secret = secret-zero
auth-secret-file = $WORK/secrets2
user = u99:p99-pass
allow-peer = 127.1.0.0/16
deny-peer = 127.0.0.99
proxy-protocol-from = 192.0.2.1
admin-token-file = $WORK/token2
cert = $WORK/b.pem
key = $WORK/b.key
default-lifetime = 120
max-lifetime = 300
total-quota = 100000
user-quota = 1
max-permissions = 2
max-channels = 1
rfc5766-channels = false
max-bps = 16000
unauth-rate = 1
max-connections-per-ip = 2
handshake-timeout = 1
idle-timeout = 1
alternate-server = 127.0.0.1:3999
drain-timeout = 2
EOF
auto_values "$CONF" >>"$CONF"
hup_and_wait

# ---- every key named, under its mark ----
named=0
while IFS=$'\t' read -r key _def mark _form _range; do
    case $key in min-port | max-port) continue ;; esac # relay-ports' field: named as relay-ports
    if [ "$mark" = restart ]; then
        line="SIGHUP: $key changed; it takes effect at the next start"
    else
        line="SIGHUP: $key changed; applied"
    fi
    if [ "$key" = auth-secret-file ]; then
        line="SIGHUP: auth-secret changed; applied" # one list of secrets
    fi
    if grep -qxF "blindrelay: $line" "$SERVER_LOG"; then
        named=$((named + 1))
    else
        fail "$key ($mark) changed but not named: no line '$line'"
    fi
done < <("$BUILD/blindrelay" --print-keys)
if [ "$named" -gt 30 ]; then
    pass "every changed key named under its mark ($named keys)"
else
    fail "only $named keys named (blindrelay --print-keys: $("$BUILD/blindrelay" --print-keys 2>&1 | head -1))"
fi
bad=$(grep "SIGHUP: .* changed" "$SERVER_LOG" |
    grep -vxE "blindrelay: SIGHUP: [a-z0-9-]+ changed; (applied|it takes effect at the next start)")
[ -z "$bad" ] || fail "a changed-key line says more than the key's name: $bad"

# ---- the reloadable keys are applied ----
expect_eq "after: 3 permissions beyond max-permissions 2 -> 508" "$(probe perms 3)" 508
expect_eq "after: 2 permissions within max-permissions 2" "$(probe perms 2)" 0
expect_eq "after: a second channel beyond max-channels 1 -> 508" "$(probe channels 2)" 508
expect_eq "after: channel 0x5000 with rfc5766-channels false -> 400" \
    "$(probe channel 5000)" 400
expect_eq "after: lifetime granted by default (default-lifetime 120)" "$(probe lifetime)" 120
expect_eq "after: lifetime 3600 asked (max-lifetime 300)" "$(probe lifetime 3600)" 300
expect_eq "after: a second allocation of one user (user-quota 1) -> 486" \
    "$(probe quota u2:p2-pass u2:p2-pass)" "0 486"
expect_eq "after: realm" "$(probe realm)" other.test
expect_le "after: answers to 10 Bindings at once (unauth-rate 1, burst 2)" "$(probe unauth 10)" 3
expect_le "after: Send indications of 1000 bytes relayed in 1.5 s (max-bps 16000)" \
    "$(probe bps 10 1000)" 4
closed=$(probe idle 5)
if [[ "$closed" =~ ^[0-9.]+$ ]] && [ "${closed%.*}" -le 3 ]; then
    pass "after: a silent TCP connection closed after ${closed} s (idle-timeout 1)"
else
    fail "after: a silent TCP connection: '$closed' (idle-timeout 1 wants it closed within 3 s)"
fi
closed=$(probe_tls idle 5)
if [[ "$closed" =~ ^[0-9.]+$ ]] && [ "${closed%.*}" -le 3 ]; then
    pass "after: a silent TLS connection closed after ${closed} s (handshake-timeout 1)"
else
    fail "after: a silent TLS connection: '$closed' (handshake-timeout 1 wants it closed within 3 s)"
fi
expect_eq "after: TCP connections kept from one address (max-connections-per-ip 2)" \
    "$(probe conns 4)" 2
expect_eq "after: /metrics with the old token -> 401" "$(metrics_code "token-one-$$")" 401
expect_eq "after: /metrics with the new token" "$(metrics_code "token-two-$$")" 200
expect_eq "after: certificate (cert and key changed)" \
    "$(tls_subject "$TLS" | sed 's/.*CN *= *//')" b.test
expect_client "after: auth-secret-file's new secret" allocate --server "$SERVER" \
    --bind 127.0.99.1 --secret secret-two

# total-quota: one more allocation than exist now
active=$(curl -s --max-time 5 -H "Authorization: Bearer token-two-$$" "$METRICS" |
    sed -n 's/^blindrelay_allocations_active \([0-9]*\)$/\1/p')
[[ "$active" =~ ^[0-9]+$ ]] || die "no blindrelay_allocations_active in /metrics"
sed -i "s/^total-quota = .*/total-quota = $((active + 1))/" "$CONF"
hup_and_wait
expect_eq "after: total-quota $((active + 1)) with $active allocations: one more, then 486" \
    "$(probe quota u3:p3-pass u4:p4-pass u5:p5-pass)" "0 486 486"

# ---- the restart-only keys are not ----
expect_eq "after: TCP still served (tcp false needs a restart)" "$(probe conns 1)" 1
if ss -Hltnp "sport = :$OTHER_ADMIN_PORT" 2>/dev/null | grep -q "\"blindrelay\""; then
    fail "admin-listen changed but the new address was opened"
else
    pass "admin-listen: the new address is not opened"
fi

# ---- alternate-server and drain-timeout, used by the signals ----
kill -USR1 "$SERVER_PID"
sleep 1.5
out=$("$TESTCLIENT" allocate --server "$SERVER" --bind 127.0.98.1 --user u6 \
    --password p6-pass --expect 300 2>&1)
if grep -q "result=pass.*alternate=127.0.0.1:3999" <<<"$out"; then
    pass "after: draining sends new allocations to the new alternate-server"
else
    fail "after: draining: $out"
fi
kill -TERM "$SERVER_PID"
for _ in $(seq 50); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
done
if grep -q "SIGTERM: stopping when the last allocation ends or in 2 s" "$SERVER_LOG"; then
    pass "after: SIGTERM drains for the new drain-timeout (2 s)"
else
    fail "after: SIGTERM: $(grep SIGTERM "$SERVER_LOG" | tail -1)"
fi
if kill -0 "$SERVER_PID" 2>/dev/null; then
    fail "blindrelay still running 5 s after SIGTERM with drain-timeout 2"
    server_stop
else
    wait "$SERVER_PID"
    rc=$?
    SERVER_PID=
    expect_eq "exit status after the drain" "$rc" 0
    grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$SERVER_LOG" &&
        fail "sanitizer report: $(grep -m3 -A5 -E 'Sanitizer|runtime error:' "$SERVER_LOG")"
fi

for secret in "token-one-$$" "token-two-$$" secret-one secret-two secret-zero p1-pass p99-pass; do
    if grep -qF -- "$secret" "$SERVER_LOG"; then
        fail "a secret, token or password appeared in the server output"
    fi
done
finish
