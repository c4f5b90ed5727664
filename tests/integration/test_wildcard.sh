# A wildcard listener (--listen 0.0.0.0:PORT): every reply must leave from
# the address the client sent to (the daemon reads it with IP_PKTINFO), or
# a client behind a connected socket or a NAT drops it. Checked directly
# with an unconnected socket that sends Binding requests to 127.0.0.1,
# 127.0.0.2 and 127.0.0.3 and reads where the answers come from; then
# br-testclient Binding (XOR-MAPPED-ADDRESS) and relay through 127.0.0.2,
# and turnutils_uclient through 127.0.0.2 and 127.0.0.3 with no loss.
# The listener is reachable from outside loopback for the few seconds of
# the test; the credentials are random per run. Ports 62700-62799, relay
# ports 63900-63999.
source "$(dirname "$0")/lib.sh"

need "$TESTCLIENT" turnutils_uclient turnutils_peer python3
[ "$BR_TEST_SERVER" = coturn ] || need "$BUILD/blindrelay"

PORT=$(pick_port 62700)
PEER_PORT=$(pick_port $((PORT + 1)))
USER=brtest-wild
PASS=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
MSGS=50
CLIENTS=2

spawn "$WORK/peer.log" turnutils_peer -L 127.0.0.1 -p "$PEER_PORT"

# reply_sources PORT ADDR...: from one unconnected socket on 127.0.0.1,
# sends a Binding request to each ADDR:PORT and prints "ADDR SOURCE" with
# the source of the answer ("none" after 3 tries of 1 s).
reply_sources() {
    timeout 30 python3 - "$@" <<'EOF'
import os, socket, struct, sys

port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(1.0)
for addr in sys.argv[2:]:
    src = "none"
    for _ in range(3):
        tid = os.urandom(12)
        s.sendto(struct.pack(">HHI", 0x0001, 0, 0x2112A442) + tid, (addr, port))
        try:
            while True:
                data, frm = s.recvfrom(2048)
                if data[8:20] == tid and data[0:2] == b"\x01\x01":
                    src = "%s:%d" % frm
                    break
        except socket.timeout:
            continue
        break
    print(addr, src)
EOF
}

# run_uclient LABEL SERVER_IP uclient-args...: asserts on the summary lines
# of turnutils_uclient 4.6.1 (as test_uclient_udp.sh does).
run_uclient() {
    local label=$1 server=$2 out=$WORK/uclient-$1.log rc
    shift 2
    timeout 90 turnutils_uclient -n $MSGS -m $CLIENTS -l 170 -z 5 -e 127.0.0.1 -r "$PEER_PORT" \
        -p "$PORT" -u "$USER" -w "$PASS" "$@" "$server" >"$out" 2>&1
    rc=$?
    check_uclient_log "$label" "$out" "$rc"
}

log "wildcard listener (server: $BR_TEST_SERVER, port $PORT, peer $PEER_PORT)"
server_start wildcard "0.0.0.0:$PORT" --relay-ip 127.0.0.1 --relay-ports 63900-63999 \
    --realm blindrelay.test --allow-peer 127.0.0.0/8 --user "$USER:$PASS"

checked=0
while read -r addr src; do
    checked=$((checked + 1))
    if [ "$src" = "$addr:$PORT" ]; then
        pass "reply to $addr:$PORT comes from $src"
    else
        fail "reply to $addr:$PORT comes from $src"
    fi
done < <(reply_sources "$PORT" 127.0.0.1 127.0.0.2 127.0.0.3)
[ "$checked" -eq 3 ] || fail "reply sources: $checked of 3 addresses checked"

expect_client "binding to 127.0.0.2" binding --server "127.0.0.2:$PORT"
expect_client "binding to 127.0.0.3 from 127.0.0.9" binding --server "127.0.0.3:$PORT" \
    --bind 127.0.0.9
expect_client "relay through 127.0.0.2" relay --server "127.0.0.2:$PORT" --user "$USER" \
    --password "$PASS" --count 20
run_uclient via-127.0.0.2 127.0.0.2
run_uclient via-127.0.0.3 127.0.0.3 -s
server_stop

finish
