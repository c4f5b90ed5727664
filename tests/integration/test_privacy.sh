# blindrelay keeps nothing per session (DESIGN.md, privacy invariants;
# docs/privacy.md). A session of allocations, permissions, channels and
# relayed data from distinctive client addresses (127.13.37.11-15), to a
# distinctive peer (127.77.66.55 on its own port) and to br-testclient's
# peers, with distinctive static usernames and TURN REST ids, through good
# and error paths, while /metrics, /healthz and /readyz are scraped. Then
# everything the daemon produced is searched for those addresses, ports,
# usernames, passwords and the secret, in text and binary forms (4 bytes in
# network order, and XORed with the magic cookie 0x2112A442 as in
# XOR-MAPPED-ADDRESS; ports as decimal text and, in binary files, as 2
# bytes): its stdout and stderr from start to SIGTERM, every admin response,
# and every file it created. It runs in an empty working directory with a
# fresh HOME and TMPDIR, and under strace (when strace works here), so any
# file it opens for writing anywhere is listed. Nothing may match; the
# search proves it can fail with a self-check on planted data.
# blindrelay only. Ports 62850-62899, relay ports 63740-63779.
source "$(dirname "$0")/lib.sh"

need "$TESTCLIENT" "$BUILD/blindrelay" turnutils_uclient turnutils_peer curl python3
if [ "$BR_TEST_SERVER" = coturn ]; then
    log "skipped: coturn logs sessions and has no admin endpoint"
    exit 0
fi


PORT=$(pick_port 62850)
PEER_PORT=$(pick_port $((PORT + 17)))
ADMIN_PORT=$(pick_stream_port $((PORT + 30)))
ADMIN=http://127.0.0.1:$ADMIN_PORT
PEER_IP=127.77.66.55
CLIENT_IPS=(127.13.37.11 127.13.37.12 127.13.37.13 127.13.37.14 127.13.37.15)
USERS=(quokka-velvet marmot-saffron)
PASSES=(qv-Pass-9931 ms-Pass-4417)
REST_IDS=(zebra-octopus narwhal-pistachio)
SECRET=axolotl-secret-$$-$RANDOM
RUN=$WORK/run
HOMEDIR=$WORK/home
TMPD=$WORK/tmp
mkdir -p "$RUN" "$HOMEDIR" "$TMPD" "$WORK/http"
SPEC=$WORK/spec
: >"$SPEC"
for a in "${CLIENT_IPS[@]}" "$PEER_IP"; do
    echo "addr $a" >>"$SPEC"
done
for s in "${USERS[@]}" "${PASSES[@]}" "${REST_IDS[@]}" "$SECRET"; do
    echo "secret $s" >>"$SPEC"
done
echo "port $PEER_PORT" >>"$SPEC"

# The search, in Python for the binary forms. SPEC lines: "secret TEXT",
# "addr A.B.C.D", "port N" (what to look for); "log PATH", "http PATH",
# "file PATH" (where). Prints each hit; exits 1 if there is one.
cat >"$WORK/scan.py" <<'EOF'
import re, socket, struct, sys

COOKIE = 0x2112A442

def addr_forms(a):
    packed = socket.inet_aton(a)
    xored = struct.pack("!I", struct.unpack("!I", packed)[0] ^ COOKIE)
    return [("text", a.encode()), ("4 bytes", packed), ("xor-mapped", xored)]

def without_values(body):
    # /metrics sample values are aggregates: a port number may equal one by
    # chance; names, labels and comments are what must not hold it
    return b"\n".join(l if l.startswith(b"#") else l.rsplit(b" ", 1)[0]
                      for l in body.split(b"\n"))

secrets, addrs, ports, files = [], [], [], []
for line in open(sys.argv[1]):
    kind, _, value = line.rstrip("\n").partition(" ")
    if kind == "secret": secrets.append(value)
    elif kind == "addr": addrs.append(value)
    elif kind == "port": ports.append(int(value))
    elif kind in ("log", "http", "file"): files.append((kind, value))
hits = 0
for kind, path in files:
    data = open(path, "rb").read()
    found = [f"username/password/secret {s!r}" for s in secrets if s.encode() in data]
    found += [f"address {a} ({form})" for a in addrs for form, n in addr_forms(a) if n in data]
    text = without_values(data) if kind == "http" else data
    found += [f"port {p} (text)" for p in ports
              if re.search(rb"(?<![0-9])%d(?![0-9])" % p, text)]
    if kind == "file":
        found += [f"port {p} ({form})" for p in ports for form, n in
                  (("2 bytes", struct.pack("!H", p)),
                   ("xor-mapped", struct.pack("!H", p ^ (COOKIE >> 16)))) if n in data]
    for f in found:
        print(f"HIT {path}: {f}")
    hits += len(found)
print(f"scanned {len(files)} file(s) for {len(secrets)} strings, {len(addrs)} addresses, "
      f"{len(ports)} ports: {hits} hit(s)")
sys.exit(1 if hits else 0)
EOF

# Self-check first: the search must find what is there, in every form.
# Planted: a username as text, a client address in network order, the peer
# address XOR-mapped, a port as 2 bytes; a log holding a username; a
# /metrics body with a port in a label. Each must be reported.
python3 - "$WORK/selfcheck.bin" "${CLIENT_IPS[1]}" "$PEER_IP" "$PEER_PORT" <<'EOF'
import socket, struct, sys
path, client, peer, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
xored = struct.pack("!I", struct.unpack("!I", socket.inet_aton(peer))[0] ^ 0x2112A442)
open(path + ".1", "wb").write(b"\x00\x01" + socket.inet_aton(client) + b"\xff")
open(path + ".2", "wb").write(b"\x00" + xored + b"\x00")
open(path + ".3", "wb").write(b"\xee" + struct.pack("!H", port) + b"\xee")
EOF
echo "session for ${USERS[0]} ended" >"$WORK/selfcheck.log"
printf '# HELP x y\nx{peer="%s"} 1\n' "$PEER_PORT" >"$WORK/selfcheck.metrics"
for planted in "file $WORK/selfcheck.bin.1" "file $WORK/selfcheck.bin.2" \
    "file $WORK/selfcheck.bin.3" "log $WORK/selfcheck.log" "http $WORK/selfcheck.metrics"; do
    if python3 "$WORK/scan.py" <(cat "$SPEC"; echo "$planted") >"$WORK/selfcheck.out" 2>&1; then
        die "self-check: the search misses planted data ($planted): it could never fail"
    fi
done
printf 'x{code="401"} %s\n' "$PEER_PORT" >"$WORK/selfcheck.value"
python3 "$WORK/scan.py" <(cat "$SPEC"; echo "http $WORK/selfcheck.value") >/dev/null ||
    die "self-check: a /metrics value equal to a port must not count as a leak"
pass "self-check: the search finds planted usernames, addresses (4 bytes, XOR-mapped) and ports"

# writes_in STRACE_LOG: the successful calls that create or open a file
# for writing (character devices such as /dev/null aside).
writes_in() {
    grep -E 'O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND|(^|[ ])(creat|mkdir|mkdirat|rename|renameat2?|link|linkat|symlink|symlinkat|truncate|mknod|mknodat)\(' \
        "$1" | grep -v ' = -1 ' | grep -vE '"/dev/(null|urandom|random|tty)"'
}

STRACE=()
if command -v strace >/dev/null && strace -f -qq -o /dev/null true 2>/dev/null; then
    # LeakSanitizer cannot run under ptrace; the other tests check leaks
    STRACE=(strace -f -qq -e trace=%file -e signal=none -o)
    # self-check: a process that writes a file is caught
    "${STRACE[@]}" "$WORK/strace-selfcheck.log" sh -c "echo x >'$WORK/probe'"
    STRACE+=("$WORK/strace.log")
    writes_in "$WORK/strace-selfcheck.log" | grep -q probe ||
        die "self-check: the strace filter misses a file written by a traced process"
else
    log "note: strace unavailable: created files found by find only"
fi

spawn "$WORK/peer.log" turnutils_peer -L "$PEER_IP" -p "$PEER_PORT"
for fd in /proc/"$$"/fd/*; do
    readlink "$fd"
done >"$WORK/inherited.txt" 2>/dev/null
touch "$WORK/marker"
sleep 1.1 # find -newer has one-second granularity on some filesystems
LOG=$WORK/daemon.log
(
    cd "$RUN" || exit 1
    exec env HOME="$HOMEDIR" TMPDIR="$TMPD" ASAN_OPTIONS=detect_leaks=0 "${STRACE[@]}" \
        "$BUILD/blindrelay" --listen "127.0.0.1:$PORT" --relay-ip 127.0.0.1 \
        --relay-ports 63740-63779 --realm blindrelay.test --allow-peer 127.0.0.0/8 \
        --user "${USERS[0]}:${PASSES[0]}" --user "${USERS[1]}:${PASSES[1]}" \
        --auth-secret "$SECRET" --admin-listen "127.0.0.1:$ADMIN_PORT" --threads 2
) >"$LOG" 2>&1 &
TOP_PID=$!
PIDS+=("$TOP_PID")
for _ in $(seq 100); do
    "$TESTCLIENT" binding --server "127.0.0.1:$PORT" --timeout 1 >/dev/null 2>&1 && break
    kill -0 "$TOP_PID" 2>/dev/null || die "blindrelay exited at startup: $(tail -3 "$LOG")"
    sleep 0.1
done
if [ ${#STRACE[@]} -gt 0 ]; then
    DAEMON_PID=$(pgrep -P "$TOP_PID" | head -1)
else
    DAEMON_PID=$TOP_PID
fi
[ -n "$DAEMON_PID" ] || die "cannot find the daemon's pid"
log "daemon pid $DAEMON_PID on $PORT, admin $ADMIN_PORT, peer $PEER_IP:$PEER_PORT"

N_HTTP=0
scrape_all() {
    local path
    for path in /metrics /healthz /readyz; do
        N_HTTP=$((N_HTTP + 1))
        curl -s --max-time 5 "$ADMIN$path" >"$WORK/http/$N_HTTP${path//\//-}" ||
            fail "GET $path failed"
        echo "http $WORK/http/$N_HTTP${path//\//-}" >>"$SPEC"
    done
}

# br-testclient sessions; the client and peer ports they report are needles.
client() {
    local out word a
    out=$(timeout 60 "$TESTCLIENT" "$@" 2>&1) || fail "session did not run as expected: $out"
    for word in $out; do
        case $word in
        local=* | peers=*)
            for a in $(echo "${word#*=}" | tr ',' ' '); do
                echo "port ${a##*:}" >>"$SPEC"
            done
            ;;
        esac
    done
}

scrape_all
# Relayed data with channels from .11 (static user) while the others run.
timeout 90 turnutils_uclient -L "${CLIENT_IPS[0]}" -u "${USERS[0]}" -w "${PASSES[0]}" \
    -e "$PEER_IP" -r "$PEER_PORT" -n 100 -m 2 -l 120 -z 20 -p "$PORT" 127.0.0.1 \
    >"$WORK/uclient-static.log" 2>&1 &
UCLIENT=$!
sleep 0.5
S=(--server "127.0.0.1:$PORT" --timeout 10)
client relay "${S[@]}" --bind "${CLIENT_IPS[1]}" --user "${USERS[1]}" --password "${PASSES[1]}" \
    --count 10
client relay "${S[@]}" --bind "${CLIENT_IPS[2]}" --secret "$SECRET" --user "${REST_IDS[0]}" \
    --count 10
scrape_all # allocations, permissions and channels are live now
wait "$UCLIENT" || fail "turnutils_uclient (static user) failed: $(tail -2 "$WORK/uclient-static.log")"
# TURN REST credentials with Send indications from .15.
timeout 60 turnutils_uclient -L "${CLIENT_IPS[4]}" -u "${REST_IDS[1]}" -W "$SECRET" -s \
    -e "$PEER_IP" -r "$PEER_PORT" -n 20 -m 1 -l 80 -z 10 -p "$PORT" 127.0.0.1 \
    >"$WORK/uclient-rest.log" 2>&1 || fail "turnutils_uclient (REST) failed"
for f in "$WORK/uclient-static.log" "$WORK/uclient-rest.log"; do
    grep -q 'Total lost packets 0 ' "$f" || fail "relayed data was lost: $(grep 'Total lost' "$f")"
done
# Error paths from .14, where servers tend to log who failed.
E=("${S[@]}" --bind "${CLIENT_IPS[3]}")
client allocate "${E[@]}" --user "${USERS[0]}" --password wrong --expect 401
client allocate "${E[@]}" --user "${USERS[0]}" --password "${PASSES[0]}" --tamper-nonce --expect 438
client allocate "${E[@]}" --secret "$SECRET" --user "${REST_IDS[0]}" --rest-ttl -60 --expect 401
client allocate "${E[@]}" --secret wrong-secret --user "${REST_IDS[1]}" --expect 401
client allocate "${E[@]}" --user "${USERS[1]}" --password "${PASSES[1]}" --peer 10.0.0.1:9 \
    --expect 403
client allocate "${E[@]}" --user "${USERS[1]}" --password "${PASSES[1]}" --transport 6 --expect 442
client refresh-zero "${E[@]}" --user "${USERS[0]}" --password "${PASSES[0]}"
# Garbage and a bare STUN Binding from a client address too.
"$TESTCLIENT" binding --server "127.0.0.1:$PORT" --bind "${CLIENT_IPS[3]}" --timeout 2 >/dev/null 2>&1
python3 -c "
import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('${CLIENT_IPS[3]}', 0)); s.sendto(b'\x17\x03\x03garbage', ('127.0.0.1', $PORT))"
scrape_all

# Files the daemon holds open, other than its captured stdout and stderr and
# what it inherited from this script (ctest leaves its log open, for one).
for fd in /proc/"$DAEMON_PID"/fd/*; do
    target=$(readlink "$fd" 2>/dev/null) || continue
    case $target in
    socket:* | pipe:* | anon_inode:* | /dev/* | "$LOG") ;;
    *) grep -qxF "$target" "$WORK/inherited.txt" ||
        echo "open file: $target" >>"$WORK/created.txt" ;;
    esac
done

# SIGTERM to the daemon itself (strace, if any, exits with it).
kill -TERM "$DAEMON_PID"
for _ in $(seq 50); do
    kill -0 "$TOP_PID" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$TOP_PID" 2>/dev/null && fail "blindrelay ignored SIGTERM for 5 s"
wait "$TOP_PID"
rc=$?
[ $rc -eq 0 ] || fail "blindrelay exited with status $rc on SIGTERM"
grep -qE 'ERROR: AddressSanitizer|runtime error:' "$LOG" && fail "sanitizer report in the daemon output"
echo "log $LOG" >>"$SPEC"

# Every file it created: in its working directory, HOME and TMPDIR, and
# (strace) any path it opened for writing or created anywhere.
find "$RUN" "$HOMEDIR" "$TMPD" -newer "$WORK/marker" -type f >>"$WORK/created.txt"
if [ ${#STRACE[@]} -gt 0 ]; then
    writes_in "$WORK/strace.log" | sed 's/^/strace: /' >>"$WORK/created.txt"
fi
touch "$WORK/created.txt"
if [ -s "$WORK/created.txt" ]; then
    fail "the daemon created or wrote files:"
    sed 's/^/    /' "$WORK/created.txt"
    grep -v '^strace: \|^open file: ' "$WORK/created.txt" | while read -r f; do
        echo "file $f" >>"$SPEC"
    done
else
    pass "the daemon created no file (working directory, HOME, TMPDIR${STRACE:+, strace of every open})"
fi

log "searching $(grep -c '^\(log\|http\|file\) ' "$SPEC") outputs for $(grep -c '^\(addr\|port\|secret\) ' "$SPEC") needles"
if python3 "$WORK/scan.py" "$SPEC" >"$WORK/scan.out" 2>&1; then
    pass "$(tail -1 "$WORK/scan.out")"
else
    fail "session data in the daemon's output:"
    sed 's/^/    /' "$WORK/scan.out"
fi
finish
