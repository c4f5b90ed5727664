# The admin endpoint under a relayed stream: /metrics is scraped before and
# after turnutils_uclient relays a known number of packets through
# blindrelay; the UDP packet counters must move by at least that many in each
# direction and allocations_created by the number of clients. The output
# passes `promtool check metrics`, and a real Prometheus (Debian package
# prometheus) scraping every second returns the relayed-packets counter from
# its query API. Then /healthz, /readyz, 404/405, and the bearer token
# (admin-token-file): 401 without it, 200 with it.
# blindrelay only (coturn has no such endpoint).
# Ports 62800-62849, relay ports 63700-63739.
source "$(dirname "$0")/lib.sh"

need "$TESTCLIENT" "$BUILD/blindrelay" turnutils_uclient turnutils_peer curl promtool prometheus
if [ "$BR_TEST_SERVER" = coturn ]; then
    log "skipped: coturn has no /metrics endpoint"
    exit 0
fi


PORT=$(pick_port 62800)
PEER_PORT=$(pick_port $((PORT + 1)))
# not PEER_PORT + 1: turnutils_uclient also binds that (its RTCP peer), and the
# peer policy refuses the server's own ports, the admin port included
ADMIN_PORT=$(pick_stream_port $((PEER_PORT + 10)))
PROM_PORT=$(pick_stream_port $((ADMIN_PORT + 1)))
ADMIN=http://127.0.0.1:$ADMIN_PORT
USER=brmetrics
PASS=brmetrics-pass-1
MSGS=50
CLIENTS=4

# scrape FILE [curl args...]: GET /metrics into FILE (bounded).
scrape() {
    local out=$1
    shift
    curl -sf --max-time 5 "$@" "$ADMIN/metrics" >"$out" || die "GET /metrics failed"
}

# value FILE SAMPLE: the value of the sample line that starts with SAMPLE
# (name and labels, exactly), or 0 when absent.
value() {
    awk -v s="$2" '$1 == s { print $2; found = 1 } END { if (!found) print 0 }' "$1"
}

C2P='blindrelay_packets_relayed_total{direction="client_to_peer",transport="udp"}'
P2C='blindrelay_packets_relayed_total{direction="peer_to_client",transport="udp"}'
CREATED=blindrelay_allocations_created_total

spawn "$WORK/peer.log" turnutils_peer -L 127.0.0.1 -p "$PEER_PORT"
server_start metrics "127.0.0.1:$PORT" --relay-ip 127.0.0.1 --relay-ports 63700-63739 \
    --realm blindrelay.test --allow-peer 127.0.0.0/8 --user "$USER:$PASS" --threads 2 \
    --admin-listen "127.0.0.1:$ADMIN_PORT"
log "server on $PORT, admin on $ADMIN_PORT, peer on $PEER_PORT"

scrape "$WORK/before.txt"
T0=$(date +%s%N)
timeout 90 turnutils_uclient -n $MSGS -m $CLIENTS -c -l 120 -z 5 -e 127.0.0.1 -r "$PEER_PORT" \
    -u "$USER" -w "$PASS" -p "$PORT" 127.0.0.1 >"$WORK/uclient.log" 2>&1
rc=$?
SENT=$(sed -n 's/.*start_mclient: tot_send_msgs=\([0-9]*\), tot_recv_msgs=\([0-9]*\).*/\1/p' "$WORK/uclient.log" | tail -1)
RECV=$(sed -n 's/.*start_mclient: tot_send_msgs=\([0-9]*\), tot_recv_msgs=\([0-9]*\).*/\2/p' "$WORK/uclient.log" | tail -1)
if [ $rc -ne 0 ] || [ -z "$SENT" ] || [ "${RECV:-0}" -ne "$SENT" ] || [ "$SENT" -eq 0 ]; then
    tail -5 "$WORK/uclient.log" | sed 's/^/    /'
    die "turnutils_uclient: status $rc, sent ${SENT:-?}, received ${RECV:-?}"
fi
pass "relayed stream: $CLIENTS clients sent $SENT, received $RECV ($((($(date +%s%N) - T0) / 1000000)) ms)"
scrape "$WORK/after.txt"

# Counters moved by at least what was sent, in each direction.
check_moved() {
    local what=$1 sample=$2 want=$3 a b
    a=$(value "$WORK/before.txt" "$sample")
    b=$(value "$WORK/after.txt" "$sample")
    if [ $((b - a)) -ge "$want" ]; then
        pass "$what moved by $((b - a)) (at least $want)"
    else
        fail "$what moved by $((b - a)) ($a -> $b), expected at least $want"
    fi
}
check_moved "udp packets client_to_peer" "$C2P" "$SENT"
check_moved "udp packets peer_to_client" "$P2C" "$RECV"
check_moved "allocations_created" "$CREATED" "$CLIENTS"
check_moved "udp bytes client_to_peer" \
    'blindrelay_bytes_relayed_total{direction="client_to_peer",transport="udp"}' $((SENT * 100))
# relay ports: the range is 40 ports; each live allocation holds one
HELD4='blindrelay_relay_ports_held{family="ipv4"}'
held_before=$(value "$WORK/before.txt" "$HELD4")
held_after=$(value "$WORK/after.txt" "$HELD4")
active_after=$(value "$WORK/after.txt" blindrelay_allocations_active)
if [ "$(value "$WORK/after.txt" blindrelay_relay_ports_range)" = 40 ] && [ "$held_before" = 0 ] &&
    [ "$held_after" = "$active_after" ]; then
    pass "relay ports: range 40, held $held_before before, $held_after after (= $active_after allocations)"
else
    fail "relay ports: range $(value "$WORK/after.txt" blindrelay_relay_ports_range), held $held_before -> $held_after, allocations $active_after"
fi
if [ "$(value "$WORK/after.txt" blindrelay_workers)" = 2 ]; then
    pass "blindrelay_workers 2"
else
    fail "blindrelay_workers is not 2: $(grep '^blindrelay_workers ' "$WORK/after.txt")"
fi

if promtool check metrics <"$WORK/after.txt" >"$WORK/promtool.log" 2>&1; then
    pass "promtool check metrics: clean ($(grep -c '^# TYPE' "$WORK/after.txt") families)"
else
    fail "promtool check metrics:"
    sed 's/^/    /' "$WORK/promtool.log"
fi

# A real Prometheus, scraping every second, then asked through its query API.
mkdir -p "$WORK/prom"
cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: blindrelay
    static_configs:
      - targets: ['127.0.0.1:$ADMIN_PORT']
EOF
T0=$(date +%s)
spawn "$WORK/prometheus.log" prometheus --config.file="$WORK/prometheus.yml" \
    --storage.tsdb.path="$WORK/prom" --web.listen-address="127.0.0.1:$PROM_PORT"
PROM_PID=$LAST_PID
QUERY="http://127.0.0.1:$PROM_PORT/api/v1/query"
got=
for _ in $(seq 60); do # at most ~30 s
    kill -0 "$PROM_PID" 2>/dev/null || break
    got=$(curl -sf --max-time 2 "$QUERY" --data-urlencode "query=$C2P" |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null)
    if [ -n "$got" ] && [ "${got%%.*}" -gt 0 ] 2>/dev/null; then
        break
    fi
    got=
    sleep 0.5
done
if [ -n "$got" ]; then
    pass "Prometheus scraped /metrics: $C2P = $got (after $(($(date +%s) - T0)) s)"
    up=$(curl -sf --max-time 2 "$QUERY" --data-urlencode 'query=up{job="blindrelay"}' |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["result"][0]["value"][1])' 2>/dev/null)
    if [ "$up" = 1 ]; then
        pass "Prometheus: up{job=\"blindrelay\"} = 1"
    else
        fail "Prometheus: up = '$up'"
    fi
else
    fail "Prometheus did not return $C2P within ~30 s"
    tail -5 "$WORK/prometheus.log" | sed 's/^/    /'
    curl -sf --max-time 2 "http://127.0.0.1:$PROM_PORT/api/v1/targets" | head -c 600
fi
kill -TERM "$PROM_PID" 2>/dev/null

# Health endpoints, timed; other paths and methods.
# expect_code WANT WHAT CURL_ARGS...: the HTTP status must be WANT.
expect_code() {
    local want=$1 what=$2 got
    shift 2
    got=$(curl -s -o /dev/null --max-time 5 -w '%{http_code} in %{time_total} s' "$@")
    if [ "${got%% *}" = "$want" ]; then
        pass "$what: $got"
    else
        fail "$what: $got, expected $want"
    fi
}
expect_code 200 "GET /healthz" "$ADMIN/healthz"
expect_code 200 "GET /readyz" "$ADMIN/readyz"
expect_code 404 "GET /nope" "$ADMIN/nope"
expect_code 405 "POST /metrics" -X POST "$ADMIN/metrics"
expect_code 200 "HEAD /metrics" -I "$ADMIN/metrics"
server_stop

# The bearer token.
TOKEN=tok-$$-$RANDOM$RANDOM
printf '%s\n' "$TOKEN" >"$WORK/token"
server_start token "127.0.0.1:$PORT" --relay-ip 127.0.0.1 --relay-ports 63700-63739 \
    --user "$USER:$PASS" --admin-listen "127.0.0.1:$ADMIN_PORT" --admin-token-file "$WORK/token"
expect_code 401 "token: /metrics without it" "$ADMIN/metrics"
expect_code 401 "token: /metrics with a wrong one" -H "Authorization: Bearer wrong" "$ADMIN/metrics"
expect_code 200 "token: /metrics with it" -H "Authorization: Bearer $TOKEN" "$ADMIN/metrics"
expect_code 200 "token: /healthz needs none" "$ADMIN/healthz"
if grep -qF "$TOKEN" "$SERVER_LOG"; then
    fail "the token appears in the server output"
fi
server_stop

# admin-listen on a port already taken: a fatal error naming the key.
spawn "$WORK/holder.log" python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $ADMIN_PORT)); s.listen(1); time.sleep(30)"
HOLDER=$LAST_PID
for _ in $(seq 50); do
    ss -Hltn "sport = :$ADMIN_PORT" | grep -q . && break
    sleep 0.1
done
timeout 10 "$BUILD/blindrelay" --listen "127.0.0.1:$PORT" --relay-ip 127.0.0.1 \
    --relay-ports 63700-63739 --admin-listen "127.0.0.1:$ADMIN_PORT" >"$WORK/busy.log" 2>&1
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q 'admin-listen: cannot listen on' "$WORK/busy.log" &&
    ! grep -qE 'Sanitizer|runtime error:' "$WORK/busy.log"; then
    pass "admin port taken: exit $rc, $(grep -m1 admin-listen "$WORK/busy.log")"
else
    fail "admin port taken: exit $rc, output: $(tail -2 "$WORK/busy.log")"
fi
kill -TERM "$HOLDER" 2>/dev/null

finish
