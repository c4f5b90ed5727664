# Bad configuration makes blindrelay exit non-zero at once with one line
# "blindrelay: ... KEY: reason" that names the key, and never echoes a
# secret. A good configuration (flags and file) starts, prints a summary and
# exits 0 on SIGTERM. blindrelay only: coturn's options differ.
# Ports 62300-62399, relay ports 63500-63599.
source "$(dirname "$0")/lib.sh"

if [ "$BR_TEST_SERVER" != blindrelay ]; then
    echo "[$TEST_NAME] blindrelay-specific; nothing to do for $BR_TEST_SERVER"
    exit 0
fi
need "$BUILD/blindrelay" "$TESTCLIENT"

PORT=$(pick_port 62300)
BR=$BUILD/blindrelay
SECRET_VALUE=zq7-never-print-this-secret
printf 'first-secret\n' >"$WORK/secret"
mkdir "$WORK/a-directory"
# Keys that make a valid server on their own; each case adds one bad key.
BASE=(--listen "127.0.0.1:$PORT" --relay-ip 127.0.0.1 --relay-ports 63500-63510
    --admin-listen "" --auth-secret "$SECRET_VALUE")

# bad_config KEY_IN_MESSAGE ARGS...: blindrelay BASE ARGS must exit non-zero
# within 5 s, print "blindrelay:" and KEY_IN_MESSAGE on stderr, not the secret.
bad_config() {
    local key=$1 out=$WORK/bad.out rc
    shift
    timeout 5 "$BR" "${BASE[@]}" "$@" >"$out" 2>&1
    rc=$?
    if [ $rc -eq 124 ]; then
        fail "$*: still running after 5 s (expected a configuration error)"
    elif [ $rc -eq 0 ]; then
        fail "$*: exit status 0 (expected a configuration error)"
    elif ! grep -q "^blindrelay: .*$key" "$out"; then
        fail "$*: exit $rc, but no 'blindrelay: ... $key' line:"
        head -5 "$out" | sed 's/^/    /'
    elif grep -qF "$SECRET_VALUE" "$out"; then
        fail "$*: the error output contains the auth-secret"
    elif grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$out"; then
        fail "$*: sanitizer report"
        head -20 "$out" | sed 's/^/    /'
    else
        pass "$* -> exit $rc: $(grep -m1 '^blindrelay: ' "$out")"
    fi
}

log "bad values (port $PORT)"
bad_config no-such-key --no-such-key 1
bad_config listen --listen 127.0.0.1:notaport
bad_config listen --listen 999.1.1.1:3478
bad_config listen --listen 127.0.0.1:99999
bad_config relay-ports --relay-ports 60000-50000
bad_config relay-ports --relay-ports abc
bad_config relay-ports --relay-ports 100-70000
bad_config auth-secret-file --auth-secret-file "$WORK/does-not-exist"
bad_config auth-secret-file --auth-secret-file "$WORK/a-directory"
bad_config relay-ip --relay-ip not-an-ip
bad_config allow-peer --allow-peer 10.0.0.0/33
bad_config deny-peer --deny-peer banana
bad_config user --user no-colon
bad_config realm --realm rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr # 33: the 401 would pass 4x
bad_config threads --threads many
bad_config max-lifetime --max-lifetime -5
bad_config nonce-lifetime --nonce-lifetime 12abc
bad_config alternate-server --alternate-server 0.0.0.0:3478
bad_config alternate-server --alternate-server turn.example.org
bad_config drain-timeout --drain-timeout 86401

log "bad config file"
printf '# test config\nrelay-ports = 63500-63510\nbogus-key = 1\n' >"$WORK/bad.conf"
bad_config "bad.conf:3: .*bogus-key" --config "$WORK/bad.conf"
printf 'relay-ports = 9-8\n' >"$WORK/bad2.conf"
bad_config "bad2.conf:1: .*relay-ports" --config "$WORK/bad2.conf"
bad_config "no-such.conf" --config "$WORK/no-such.conf"

log "good configuration from a file plus flags"
cat >"$WORK/good.conf" <<EOF
# blindrelay test configuration
realm = blindrelay.test
relay-ports = 63520-63530
auth-secret-file = $WORK/secret
allow-peer = 127.0.0.0/8
EOF
server_start good "127.0.0.1:$PORT" --config "$WORK/good.conf" --relay-ip 127.0.0.1
if [ -s "$SERVER_LOG" ]; then
    pass "startup summary printed ($(wc -l <"$SERVER_LOG") lines)"
else
    fail "no startup summary on stderr"
fi
expect_client "REST credential from auth-secret-file" allocate --server "127.0.0.1:$PORT" \
    --secret first-secret
server_stop
if grep -qF first-secret "$SERVER_LOG"; then
    fail "the startup summary contains the secret from auth-secret-file"
fi

finish
