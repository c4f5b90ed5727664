# The admin endpoint cannot be used to slow the relay, and abuse of it is
# bounded. While turnutils_uclient relays a stream through blindrelay: 200
# parallel idle connections, a client dribbling a request one byte at a
# time, a 100 KB URL, a POST with a body, and a flood of /metrics scrapes.
# Each must end quickly (refused, closed, or a 4xx), /healthz must answer
# fast afterwards, and the relayed stream must lose nothing.
# Then the probes cannot be starved: keep-alive clients that hold every
# connection slot (or every slot of the prober's own address) and keep them
# busy with requests; a new /readyz must still answer within 1 s. A
# kept-alive connection is closed after its 100th request (with
# "Connection: close" on it) and after 2 s without one.
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

# 200 parallel connections that send nothing: past 16 from one address each
# newcomer closes the longest-idle one, the last 16 are closed at their
# request deadline (5 s); past 64 at once the kernel's backlog holds them.
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
# kept alive by the bytes. From an address of its own: the 200 above would
# otherwise close it sooner, to make room.
def dribble():
    s = socket.create_connection(ADDR, timeout=5, source_address=("127.0.0.2", 0))
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
    ok = st != "open" and 4.5 < took < 8
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
# verdicts FILE: one pass or fail per line "NAME ok|FAIL detail".
verdicts() {
    local name verdict rest
    while read -r name verdict rest; do
        if [ "$verdict" = ok ]; then
            pass "$name: $rest"
        else
            fail "$name: $verdict $rest"
        fi
    done <"$1"
    [ -s "$1" ] || fail "$(basename "$1"): the script printed nothing"
}
verdicts "$WORK/attacks.txt"
for pid in "${FLOOD[@]}"; do
    wait "$pid"
done
answers=0
for f in "$WORK"/flood.*; do
    answers=$((answers + $(cat "$f")))
done
pass "scrape flood: $answers /metrics answers in 6 s from 4 loops (some closed to make room)"

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
# Starvation: busy keep-alive holders, then probes.
python3 - "$ADMIN_PORT" >"$WORK/starve.txt" 2>&1 <<'EOF'
import socket, sys, threading, time

ADDR = ("127.0.0.1", int(sys.argv[1]))
PER_IP = 16     # admin.c: connections from one address
SLOTS = 64      # admin.c: connections at once
CAP = 100       # admin.c: requests per connection
KEEPALIVE = 2.0 # admin.c: seconds a kept-alive connection may wait for its next request

def connect(src, timeout=3):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(ADDR)
    return s

def response(s):
    """One whole response: (status, lower-case head) or None once closed."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            return None
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    head = head.lower()
    length = 0
    for line in head.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(body) < length:
        chunk = s.recv(4096)
        if not chunk:
            return None
        body += chunk
    return int(head.split(b" ")[1]), head

def closed_by_peer(s):
    try:
        return s.recv(1) == b""
    except OSError:
        return True

class Holders:
    """Clients that hold a connection each and reconnect as soon as it is
    closed: idle ones from the addresses in idle (half a request, then
    nothing), busy ones from those in busy (a /healthz every 50 ms on a
    kept-alive connection)."""
    def __init__(self, idle, busy):
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.requests = self.connections = self.open = 0
        self.threads = [threading.Thread(target=self.hold, args=(src, False)) for src in idle]
        self.threads += [threading.Thread(target=self.hold, args=(src, True)) for src in busy]
        for t in self.threads:
            t.start()

    def count(self, **d):
        with self.lock:
            for k, v in d.items():
                setattr(self, k, getattr(self, k) + v)

    def busy(self, s):
        while not self.stop.is_set():
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            if response(s) is None:
                return
            self.count(requests=1)
            time.sleep(0.05)

    def idle(self, s):
        s.sendall(b"GET /healthz HTTP/1.1\r\n")
        s.settimeout(0.2)
        while not self.stop.is_set():
            try:
                if not s.recv(1):
                    return
            except socket.timeout:
                pass

    def hold(self, src, busy):
        while not self.stop.is_set():
            s = None
            try:
                s = connect(src)
                self.count(connections=1, open=1)
                try:
                    (self.busy if busy else self.idle)(s)
                finally:
                    self.count(open=-1)
            except (OSError, ValueError, IndexError):
                pass
            finally:
                if s:
                    s.close()
            time.sleep(0.01)

    def end(self):
        self.stop.set()
        for t in self.threads:
            t.join(10)

def probes(name, holders, n=5):
    """n probes of /readyz from 127.0.0.1 while the holders run; each must
    answer 200 within 1 s."""
    worst, failures, open_at_probe = 0.0, [], []
    t_start, r_start = time.monotonic(), holders.requests
    for i in range(n):
        open_at_probe.append(holders.open)
        t0 = time.monotonic()
        status = "no answer"
        try:
            s = connect("127.0.0.1", timeout=1)
            s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            r = response(s)
            status = r[0] if r else "closed"
            s.close()
        except OSError as e:
            status = type(e).__name__
        took = time.monotonic() - t0
        worst = max(worst, took)
        if status != 200 or took >= 1.0:
            failures.append(f"{status} in {took:.2f} s")
        time.sleep(0.3)
    rate = (holders.requests - r_start) / (time.monotonic() - t_start)
    detail = (f"{n - len(failures)}/{n} /readyz answered 200 within 1 s (slowest {worst * 1000:.0f} ms) "
              f"while {len(holders.threads)} holders kept {min(open_at_probe)}-{max(open_at_probe)} "
              f"connections open and sent {rate:.0f} requests/s ({holders.connections} connections)")
    if failures:
        detail += "; failed: " + ", ".join(failures)
    print(f"{name} {'ok' if not failures else 'FAIL'} {detail}")

# Every slot of the prober's own address.
h = Holders(["127.0.0.1"] * PER_IP, ["127.0.0.1"] * 4)
time.sleep(1.5)
probes("starve-same-address", h)
h.end()
time.sleep(0.5)

# Every slot there is, from four other addresses.
h = Holders([f"127.0.0.{2 + i % 4}" for i in range(SLOTS)], [f"127.0.0.{2 + i}" for i in range(8)])
time.sleep(1.5)
probes("starve-all-slots", h)
h.end()
time.sleep(0.5)

# The request cap: Connection: close on the last answer, then closed.
s = connect("127.0.0.6")
last, told = 0, False
for i in range(1, CAP + 51):
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        r = response(s)
    except OSError:
        r = None
    if r is None:
        break
    last = i
    if b"connection: close" in r[1]:
        told = True
        break
gone = closed_by_peer(s)
s.close()
ok = told and gone and last == CAP
print(f"request-cap {'ok' if ok else 'FAIL'} {last} answers on one connection, "
      f"'Connection: close' on the last: {told}, then closed: {gone}")

# Idle close between requests.
s = connect("127.0.0.6", timeout=10)
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
r = response(s)
t0 = time.monotonic()
gone = closed_by_peer(s)
took = time.monotonic() - t0
s.close()
ok = r is not None and r[0] == 200 and gone and KEEPALIVE - 0.5 < took < KEEPALIVE + 1.5
print(f"keepalive-idle {'ok' if ok else 'FAIL'} closed {took:.1f} s after its answer "
      f"(limit {KEEPALIVE:.0f} s)")
EOF
verdicts "$WORK/starve.txt"
t=$(curl -s -o "$WORK/healthz" --max-time 2 -w '%{time_total}' "$ADMIN/healthz")
[ "$(cat "$WORK/healthz")" = ok ] || fail "/healthz after the starvation tests: '$(cat "$WORK/healthz")'"
curl -s --max-time 2 "$ADMIN/metrics" >"$WORK/metrics.txt"
room=$(sed -n 's/^blindrelay_admin_connections_closed_total{reason="make_room"} //p' "$WORK/metrics.txt")
late=$(sed -n 's/^blindrelay_admin_connections_closed_total{reason="deadline"} //p' "$WORK/metrics.txt")
if [ "${room:-0}" -gt 0 ] && [ "${late:-0}" -gt 0 ]; then
    pass "counted: $room admin connections closed to make room, $late past their deadline"
else
    fail "admin connections closed: make_room '${room:-}', deadline '${late:-}' (want both > 0)"
fi

server_stop
finish
