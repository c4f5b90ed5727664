# The admin endpoint cannot be used to slow the relay, and abuse of it is
# bounded. While turnutils_uclient relays a stream through blindrelay: 200
# parallel idle connections, a client dribbling a request one byte at a
# time, a 100 KB URL, a POST with a body, and a flood of /metrics scrapes.
# Each must end quickly (refused, closed, or a 4xx), /healthz must answer
# fast afterwards, and the relayed stream must lose nothing.
# blindrelay only. Ports 62900-62949, relay ports 63780-63799.
source "$(dirname "$0")/lib.sh"

need "$TESTCLIENT" "$BUILD/blindrelay" turnutils_uclient turnutils_peer curl python3
if [ "$BR_TEST_SERVER" = coturn ]; then
    log "skipped: coturn has no admin endpoint"
    exit 0
fi


PORT=$(pick_port 62900)
PEER_PORT=$(pick_port $((PORT + 1)))
ADMIN_PORT=$(pick_stream_port $((PORT + 10)))
ADMIN=http://127.0.0.1:$ADMIN_PORT
USER=brabuse
PASS=brabuse-pass-1
MSGS=400
CLIENTS=4

spawn "$WORK/peer.log" turnutils_peer -L 127.0.0.1 -p "$PEER_PORT"
server_start abuse "127.0.0.1:$PORT" --relay-ip 127.0.0.1 --relay-ports 63780-63799 \
    --realm blindrelay.test --allow-peer 127.0.0.0/8 --user "$USER:$PASS" --threads 2 \
    --admin-listen "127.0.0.1:$ADMIN_PORT"
log "server on $PORT, admin on $ADMIN_PORT"

# The relayed stream: 4 clients x 400 packets every 20 ms (about 8 s).
timeout 90 turnutils_uclient -n $MSGS -m $CLIENTS -l 170 -z 20 -e 127.0.0.1 -r "$PEER_PORT" \
    -u "$USER" -w "$PASS" -p "$PORT" 127.0.0.1 >"$WORK/uclient.log" 2>&1 &
UCLIENT=$!
sleep 0.5

# Scrape flood in the background: 4 loops of /metrics for the whole attack.
FLOOD=()
for i in 1 2 3 4; do
    (
        n=0
        end=$(($(date +%s) + 6))
        while [ "$(date +%s)" -lt "$end" ]; do
            curl -s -o /dev/null --max-time 2 "$ADMIN/metrics" && n=$((n + 1))
        done
        echo "$n" >"$WORK/flood.$i"
    ) &
    FLOOD+=($!)
done

# The attacks, each with its own time bound; prints one line per attack:
# "NAME ok|FAIL detail".
python3 - "$ADMIN_PORT" >"$WORK/attacks.txt" 2>&1 <<'EOF'
import socket, sys, threading, time

port = int(sys.argv[1])
ADDR = ("127.0.0.1", port)

def outcome(s, limit):
    """Reads until the peer closes or limit seconds pass: (status, seconds)."""
    t0 = time.monotonic()
    s.settimeout(limit)
    data = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        return "open", time.monotonic() - t0
    except OSError:
        return "reset", time.monotonic() - t0
    status = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "closed"
    return status, time.monotonic() - t0

# 200 parallel connections that send nothing: MHD takes a bounded number,
# closes the rest at once, and closes the taken ones on the idle timeout.
def parallel():
    results = [None] * 200
    def one(i):
        t0 = time.monotonic()
        try:
            s = socket.create_connection(ADDR, timeout=10)
        except OSError as e:
            results[i] = ("refused", time.monotonic() - t0)
            return
        st, _ = outcome(s, 15)
        results[i] = (st, time.monotonic() - t0)
        s.close()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(200)]
    t0 = time.monotonic()
    for t in threads: t.start()
    for t in threads: t.join(30)
    took = time.monotonic() - t0
    kinds = {}
    for r in results:
        k = r[0] if r else "unfinished"
        kinds[k] = kinds.get(k, 0) + 1
    worst = max((r[1] for r in results if r), default=0)
    ok = "open" not in kinds and "unfinished" not in kinds and took < 12
    print(f"parallel-200 {'ok' if ok else 'FAIL'} all ended in {took:.1f} s (slowest {worst:.1f} s): "
          + ", ".join(f"{v} {k}" for k, v in sorted(kinds.items())))

# One byte every 200 ms: closed by the per-request deadline (5 s), not
# kept alive by the bytes.
def dribble():
    s = socket.create_connection(ADDR, timeout=5)
    req = b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 200
    t0 = time.monotonic()
    sent = 0
    try:
        for b in req:
            s.send(bytes([b]))
            sent += 1
            time.sleep(0.2)
            if time.monotonic() - t0 > 20:
                break
    except OSError:
        pass
    st, _ = outcome(s, 5)
    took = time.monotonic() - t0
    ok = st != "open" and took < 8
    print(f"dribble {'ok' if ok else 'FAIL'} {st} after {took:.1f} s ({sent} bytes sent)")

def long_url():
    s = socket.create_connection(ADDR, timeout=5)
    t0 = time.monotonic()
    try:
        s.sendall(b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    except OSError:
        pass
    st, took = outcome(s, 5)
    took = time.monotonic() - t0
    ok = st in ("414", "431", "400", "closed", "reset") and took < 2
    print(f"long-url {'ok' if ok else 'FAIL'} {st} in {took * 1000:.0f} ms")

def post():
    s = socket.create_connection(ADDR, timeout=5)
    t0 = time.monotonic()
    body = b"x" * 10000
    s.sendall(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    st, took = outcome(s, 5)
    took = time.monotonic() - t0
    ok = st == "405" and took < 2
    print(f"post {'ok' if ok else 'FAIL'} {st} in {took * 1000:.0f} ms")

attacks = [threading.Thread(target=f) for f in (parallel, dribble)]
for t in attacks: t.start()
time.sleep(6)  # the parallel connections have been dealt with
long_url()
post()
for t in attacks: t.join(40)
EOF
while read -r name verdict rest; do
    if [ "$verdict" = ok ]; then
        pass "$name: $rest"
    else
        fail "$name: $verdict $rest"
    fi
done <"$WORK/attacks.txt"
[ -s "$WORK/attacks.txt" ] || fail "the attack script printed nothing"
for pid in "${FLOOD[@]}"; do
    wait "$pid"
done
answers=0
for f in "$WORK"/flood.*; do
    answers=$((answers + $(cat "$f")))
done
pass "scrape flood: $answers /metrics answers in 6 s from 4 loops (some refused by the per-IP limit)"

# Afterwards /healthz answers at once (the time is the whole curl exchange
# on loopback; the handler itself does no work).
t=$(curl -s -o "$WORK/healthz" --max-time 2 -w '%{time_total}' "$ADMIN/healthz")
if [ "$(cat "$WORK/healthz")" = ok ] && python3 -c "import sys; sys.exit(0 if $t < 0.05 else 1)"; then
    pass "/healthz afterwards: ok in $(python3 -c "print(round($t * 1000, 2))") ms"
else
    fail "/healthz afterwards: '$(cat "$WORK/healthz")' in ${t}s"
fi

wait "$UCLIENT"
rc=$?
sent=$(sed -n 's/.*start_mclient: tot_send_msgs=\([0-9]*\), tot_recv_msgs=\([0-9]*\).*/\1/p' "$WORK/uclient.log" | tail -1)
recv=$(sed -n 's/.*start_mclient: tot_send_msgs=\([0-9]*\), tot_recv_msgs=\([0-9]*\).*/\2/p' "$WORK/uclient.log" | tail -1)
lost=$(sed -n 's/.*Total lost packets \([0-9]*\) (\([0-9.]*\)%).*/\1/p' "$WORK/uclient.log" | tail -1)
if [ $rc -eq 0 ] && [ -n "$sent" ] && [ "$sent" -gt 0 ] && [ "$recv" = "$sent" ] && [ "$lost" = 0 ]; then
    pass "relay during the attacks: sent $sent, received $recv, lost 0 (0%)"
else
    fail "relay during the attacks: status $rc, sent ${sent:-?}, received ${recv:-?}, lost ${lost:-?}"
    tail -3 "$WORK/uclient.log" | sed 's/^/    /'
fi
server_stop
finish
