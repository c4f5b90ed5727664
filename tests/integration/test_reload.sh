# SIGHUP reads the configuration again and applies the credentials and the
# peer rules to running workers: a secret added to auth-secret-file works at
# once, a removed one is refused for new allocations, a static user can be
# added, a deny-peer rule takes effect; a relay running across the reloads
# loses nothing; a broken configuration is refused and the running one
# stays; keys that need a restart are named. blindrelay only. Ports
# 61000-61049, relay ports 64200-64299.
source "$(dirname "$0")/lib.sh"

if [ "$BR_TEST_SERVER" != blindrelay ]; then
    echo "[$TEST_NAME] blindrelay-specific; nothing to do for $BR_TEST_SERVER"
    exit 0
fi
need "$BUILD/blindrelay" "$TESTCLIENT" turnutils_uclient turnutils_peer

PORT=$(pick_port 61000)
PEER_PORT=$(pick_port $((PORT + 1)))
SERVER=127.0.0.1:$PORT
CONF=$WORK/blindrelay.conf
SECRETS=$WORK/secrets

write_conf() { # extra lines on stdin
    {
        echo "listen = $SERVER"
        echo "relay-ports = 64200-64299"
        echo "realm = reload.test"
        echo "allow-peer = 127.0.0.0/8"
        echo "user = stay:stay-pass"
        echo "auth-secret-file = $SECRETS"
        echo "admin-listen ="
        cat
    } >"$CONF"
}

# hup_and_wait PATTERN: SIGHUP, then wait (at most 5 s) for one more log
# line matching PATTERN than before.
hup_and_wait() {
    local before
    before=$(grep -c -- "$1" "$SERVER_LOG")
    kill -HUP "$SERVER_PID"
    for _ in $(seq 50); do
        [ "$(grep -c -- "$1" "$SERVER_LOG")" -gt "$before" ] && return 0
        sleep 0.1
    done
    return 1
}

rest() { # rest "description" SECRET EXPECT
    expect_client "$1" allocate --server "$SERVER" --secret "$2" --expect "$3"
}

echo "secret-a" >"$SECRETS"
write_conf </dev/null
spawn "$WORK/peer.log" turnutils_peer -L 127.0.0.1 -p "$PEER_PORT"
SERVER_LOG=$WORK/server.log
spawn "$SERVER_LOG" "$BUILD/blindrelay" --config "$CONF"
SERVER_PID=$LAST_PID
for _ in $(seq 50); do
    "$TESTCLIENT" binding --server "$SERVER" --timeout 1 >/dev/null 2>&1 && break
    sleep 0.1
done

rest "secret A before the reload" secret-a 0
rest "secret B before the reload -> 401" secret-b 401

# A relay that runs across every reload below (10 s of 20 ms packets).
timeout 60 turnutils_uclient -u stay -w stay-pass -e 127.0.0.1 -r "$PEER_PORT" \
    -n 400 -m 2 -l 120 -z 25 -p "$PORT" 127.0.0.1 >"$WORK/uclient.log" 2>&1 &
UCLIENT=$!
PIDS+=("$UCLIENT")
sleep 1

# rotation: B added, A kept
printf 'secret-b\nsecret-a\n' >"$SECRETS"
hup_and_wait "credentials and peer rules reloaded" || fail "no reload line after SIGHUP"
rest "after adding B: secret B" secret-b 0
rest "after adding B: secret A still" secret-a 0

# rotation done: A removed; a static user added; 127.0.0.3 denied
echo "secret-b" >"$SECRETS"
write_conf <<EOF
user = late:late-pass
deny-peer = 127.0.0.3
EOF
hup_and_wait "credentials and peer rules reloaded" || fail "no reload line after SIGHUP"
rest "after removing A: secret A -> 401" secret-a 401
rest "after removing A: secret B" secret-b 0
expect_client "static user added by reload" allocate --server "$SERVER" \
    --user late --password late-pass
expect_client "deny-peer added by reload -> 403" allocate --server "$SERVER" \
    --user late --password late-pass --peer 127.0.0.3:5000 --expect 403

# a broken configuration is refused whole; the running rules stay
echo "no-such-key = 1" >>"$CONF"
hup_and_wait "configuration not reloaded" || fail "a broken configuration was not refused"
rest "after a refused reload: secret B still" secret-b 0

# a key that needs a restart is named, the rest applied
write_conf <<EOF
user = late:late-pass
relay-ports = 64200-64250
EOF
hup_and_wait "credentials and peer rules reloaded" || fail "no reload line after SIGHUP"
grep -q "relay-ports changed; it takes effect at the next start" "$SERVER_LOG" ||
    fail "a changed relay-ports was not reported"
expect_client "deny-peer removed by reload" allocate --server "$SERVER" \
    --user late --password late-pass --peer 127.0.0.3:5000

if wait "$UCLIENT"; then
    if grep -q "Total lost packets 0 (0.000000%)" "$WORK/uclient.log"; then
        pass "relay across four reloads: $(grep -o 'tot_send_msgs=[0-9]*, tot_recv_msgs=[0-9]*' "$WORK/uclient.log" | tail -1), 0 lost"
    else
        fail "relay across the reloads lost packets: $(grep 'lost packets' "$WORK/uclient.log")"
    fi
else
    fail "turnutils_uclient failed across the reloads"
    tail -5 "$WORK/uclient.log"
fi
if grep -q "secret-a\|secret-b\|late-pass\|stay-pass" "$SERVER_LOG"; then
    fail "a secret or password appeared in the server output"
fi
server_stop
finish
