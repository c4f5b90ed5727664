#!/usr/bin/python3
"""Peer policy over time, driven over TURN/UDP (stdlib only), for
test_peer_policy.sh and test_peer_policy_netns.sh.

Usage: peer_policy.py CHECK --server ADDR:PORT --user U --password P
       --metrics URL [options]; prints one line per assertion, "ok: ..." or
"FAIL: ...", and exits 1 if any assertion failed. Every wait is bounded.

Checks:
  relay-ends  A binds a channel to B's relayed address and B permits A's:
              ChannelData reaches B; after B's Refresh LIFETIME 0, A's
              ChannelData is dropped and counted as a policy drop.
  revoke      a peer socket on --peer (bound with IP_FREEBIND, so the
              address need not exist yet) and a relay flowing to it over a
              channel and Send indications; then --action (a shell
              command) runs; within --within seconds the flow must stop
              (the peer socket and the relayed counter see nothing for 2 s),
              the server counts the ended permission and channel, and a new
              CreatePermission or ChannelBind to the peer gets 403.
              --peer-live: the peer must receive before the action.
"""

import argparse
import hashlib
import hmac
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request

MAGIC = 0x2112A442
ALLOCATE, REFRESH, SEND, DATA, CREATE_PERMISSION, CHANNEL_BIND = 3, 4, 6, 7, 8, 9
A_USERNAME, A_MI, A_ERROR, A_CHANNEL, A_LIFETIME = 0x0006, 0x0008, 0x0009, 0x000C, 0x000D
A_PEER, A_DATA, A_REALM, A_NONCE, A_RELAYED, A_TRANSPORT = (0x0012, 0x0013, 0x0014, 0x0015,
                                                            0x0016, 0x0019)
IP_FREEBIND = 15

FAILURES = 0


def ok(msg):
    print("ok: " + msg, flush=True)


def fail(msg):
    global FAILURES
    FAILURES += 1
    print("FAIL: " + msg, flush=True)


def check(cond, msg):
    (ok if cond else fail)(msg)
    return cond


def hostport(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


# --- STUN -----------------------------------------------------------------


def attr(typ, value):
    return struct.pack("!HH", typ, len(value)) + value + b"\0" * ((4 - len(value) % 4) % 4)


def xor_addr(addr):
    ip = bytes(a ^ b for a, b in zip(socket.inet_aton(addr[0]), struct.pack("!I", MAGIC)))
    return struct.pack("!xBH", 1, addr[1] ^ (MAGIC >> 16)) + ip


def unxor_addr(value):
    port = struct.unpack("!H", value[2:4])[0] ^ (MAGIC >> 16)
    ip = bytes(a ^ b for a, b in zip(value[4:8], struct.pack("!I", MAGIC)))
    return socket.inet_ntoa(ip), port


def message(msg_type, body, tid=None):
    tid = tid or os.urandom(12)
    return struct.pack("!HHI", msg_type, len(body), MAGIC) + tid + body, tid


def parse(frame):
    """(type, tid, {attr: value}) of one STUN message, or None."""
    if len(frame) < 20 or struct.unpack("!I", frame[4:8])[0] != MAGIC:
        return None
    msg_type, length = struct.unpack("!HH", frame[:4])
    attrs, pos = {}, 20
    while pos + 4 <= 20 + length <= len(frame):
        typ, alen = struct.unpack("!HH", frame[pos:pos + 4])
        attrs.setdefault(typ, frame[pos + 4:pos + 4 + alen])
        pos += 4 + alen + (4 - alen % 4) % 4
    return msg_type, frame[8:20], attrs


def error_code(attrs):
    v = attrs.get(A_ERROR)
    return 0 if v is None else (v[2] & 7) * 100 + v[3]


class Client:
    """One TURN/UDP client (one 5-tuple) with long-term credentials."""

    def __init__(self, server, user, password):
        self.server, self.user, self.password = server, user, password
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect(server)
        self.realm = self.nonce = self.key = None
        self.relayed = None
        self.data = []  # payloads that arrived as Data indications or ChannelData
        self.lock = threading.Lock()

    def _exchange(self, frame, tid, timeout=3.0):
        end = time.monotonic() + timeout
        self.sock.send(frame)
        while time.monotonic() < end:
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                got = self.sock.recv(2048)
            except socket.timeout:
                break
            m = parse(got)
            if m and m[1] == tid:
                return m
            self._keep(got)
        raise TimeoutError("no answer from the server")

    def _keep(self, got):
        m = parse(got)
        if m and m[0] == 0x0017 and A_DATA in m[2]:
            self.data.append(m[2][A_DATA])
        elif len(got) >= 4 and 0x40 <= got[0] <= 0x4F:
            self.data.append(got[4:4 + struct.unpack("!H", got[2:4])[0]])

    def request(self, method, body=b""):
        """Returns the response's code (0 for success) and attributes."""
        for _ in range(3):
            auth = b""
            if self.nonce is not None:
                auth = (attr(A_USERNAME, self.user.encode()) + attr(A_REALM, self.realm) +
                        attr(A_NONCE, self.nonce))
            frame, tid = message(method, body + auth)
            if self.key:
                length = struct.unpack("!H", frame[2:4])[0] + 24
                frame = frame[:2] + struct.pack("!H", length) + frame[4:]
                frame += attr(A_MI, hmac.new(self.key, frame, "sha1").digest())
            t, _, attrs = self._exchange(frame, tid)
            code = error_code(attrs) if t & 0x0110 == 0x0110 else 0
            if code in (401, 438) and A_NONCE in attrs:
                self.nonce = attrs[A_NONCE]
                self.realm = attrs.get(A_REALM, self.realm)
                self.key = hashlib.md5(b"%s:%s:%s" % (self.user.encode(), self.realm,
                                                      self.password.encode())).digest()
                continue
            return code, attrs
        return code, attrs

    def allocate(self):
        code, attrs = self.request(ALLOCATE, attr(A_TRANSPORT, b"\x11\0\0\0"))
        if code == 0:
            self.relayed = unxor_addr(attrs[A_RELAYED])
        return code

    def permit(self, peer):
        return self.request(CREATE_PERMISSION, attr(A_PEER, xor_addr(peer)))[0]

    def bind(self, number, peer):
        return self.request(CHANNEL_BIND,
                            attr(A_CHANNEL, struct.pack("!HH", number, 0)) +
                            attr(A_PEER, xor_addr(peer)))[0]

    def release(self):
        return self.request(REFRESH, attr(A_LIFETIME, struct.pack("!I", 0)))[0]

    def send_channel(self, number, payload):
        self.sock.send(struct.pack("!HH", number, len(payload)) + payload)

    def send_indication(self, peer, payload):
        frame, _ = message(0x0016, attr(A_PEER, xor_addr(peer)) + attr(A_DATA, payload))
        self.sock.send(frame)

    def drain(self, seconds):
        """Collects what arrives for this long."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                self._keep(self.sock.recv(2048))
            except socket.timeout:
                break


def metric(url, name):
    """The value of one sample line of /metrics (0 when absent)."""
    with urllib.request.urlopen(url, timeout=3) as r:
        text = r.read().decode()
    m = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    return int(m.group(1)) if m else 0


POLICY_DROPS = 'blindrelay_packets_dropped_total{reason="policy"}'
TO_PEER = 'blindrelay_packets_relayed_total{direction="client_to_peer",transport="udp"}'
REVOKED = "blindrelay_peers_revoked_total"


def check_relay_ends(a):
    server = hostport(a.server)
    ca, cb = Client(server, a.user, a.password), Client(server, a.user, a.password)
    if not (check(ca.allocate() == 0, "A allocates: relayed %s" % (ca.relayed,)) and
            check(cb.allocate() == 0, "B allocates: relayed %s" % (cb.relayed,))):
        return
    check(ca.bind(0x4000, cb.relayed) == 0, "A binds channel 0x4000 to B's relayed address")
    check(cb.permit(ca.relayed) == 0, "B permits A's relayed address")
    for i in range(a.count):
        ca.send_channel(0x4000, b"before %d" % i)
    cb.drain(1.0)
    got = sum(1 for d in cb.data if d.startswith(b"before"))
    check(got >= a.count * 9 // 10, "relay to relay works: B got %d of %d" % (got, a.count))
    check(cb.release() == 0, "B ends its allocation (Refresh LIFETIME 0)")
    before = metric(a.metrics, POLICY_DROPS)
    for i in range(a.count):
        ca.send_channel(0x4000, b"after %d" % i)
    time.sleep(0.5)
    dropped = metric(a.metrics, POLICY_DROPS) - before
    check(dropped == a.count, "A's ChannelData to the ended allocation's address: %d of %d "
          "dropped as policy" % (dropped, a.count))
    check(ca.bind(0x4001, cb.relayed) == 403, "a new ChannelBind to the freed port gets 403")
    ca.release()


class PeerSocket:
    """Counts datagrams arriving on addr, in a thread."""

    def __init__(self, addr):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
        self.sock.bind(addr)
        self.sock.settimeout(0.1)
        self.times = []
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                self.sock.recv(2048)
                self.times.append(time.monotonic())
            except socket.timeout:
                pass

    def since(self, t):
        return sum(1 for x in self.times if x >= t)


def check_revoke(a):
    server, peer_addr = hostport(a.server), hostport(a.peer)
    peer = PeerSocket(peer_addr)
    c = Client(server, a.user, a.password)
    if not check(c.allocate() == 0, "allocate: relayed %s" % (c.relayed,)):
        return
    check(c.permit(peer_addr) == 0, "CreatePermission to the peer")
    check(c.bind(0x4000, peer_addr) == 0, "ChannelBind 0x4000 to the peer")
    stop = threading.Event()

    def flow():
        i = 0
        while not stop.is_set():
            c.send_channel(0x4000, b"chan %d" % i)
            c.send_indication(peer_addr, b"send %d" % i)
            i += 1
            time.sleep(0.02)

    sender = threading.Thread(target=flow, daemon=True)
    t0 = time.monotonic()
    relayed0, revoked0 = metric(a.metrics, TO_PEER), metric(a.metrics, REVOKED)
    sender.start()
    time.sleep(1.0)
    relayed1 = metric(a.metrics, TO_PEER)
    check(relayed1 - relayed0 >= 40, "flowing before: %d packets relayed to the peer in 1 s" %
          (relayed1 - relayed0))
    if a.peer_live:
        check(peer.since(t0) >= 40, "the peer received %d before" % peer.since(t0))
    ok("running: %s" % a.action)
    t_action = time.monotonic()
    r = subprocess.run(a.action, shell=True, timeout=30)
    check(r.returncode == 0, "the action ran (status %d)" % r.returncode)
    # the flow must have stopped by t_action + within; watch 2 s after that
    time.sleep(max(0.0, t_action + a.within - time.monotonic()))
    t_quiet, relayed2 = time.monotonic(), metric(a.metrics, TO_PEER)
    time.sleep(2.0)
    relayed3 = metric(a.metrics, TO_PEER)
    stop.set()
    sender.join()
    last = max(peer.times) - t_action if peer.times else None
    check(peer.since(t_quiet) == 0,
          "the peer socket got nothing from %.0f s to %.0f s after the action (%d in all; last "
          "at %s s)" % (a.within, a.within + 2, len(peer.times),
                        "never" if last is None else "%+.1f" % last))
    check(relayed3 == relayed2, "nothing relayed to the peer in those 2 s (%d)" %
          (relayed3 - relayed2))
    revoked = metric(a.metrics, REVOKED) - revoked0
    check(revoked >= 2, "%d permissions and channels counted as revoked" % revoked)
    check(c.permit(peer_addr) == 403, "a new CreatePermission to the peer gets 403")
    check(c.bind(0x4001, peer_addr) == 403, "a new ChannelBind to the peer gets 403")
    c.release()
    peer.stop = True


def main():
    p = argparse.ArgumentParser()
    p.add_argument("check", choices=["relay-ends", "revoke"])
    p.add_argument("--server", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--metrics", required=True, help="http://ADDR:PORT/metrics")
    p.add_argument("--count", type=int, default=50)
    p.add_argument("--peer", help="revoke: ADDR:PORT of the peer socket")
    p.add_argument("--peer-live", action="store_true")
    p.add_argument("--action", help="revoke: shell command that changes the policy")
    p.add_argument("--within", type=float, default=3.0)
    a = p.parse_args()
    try:
        {"relay-ends": check_relay_ends, "revoke": check_revoke}[a.check](a)
    except (OSError, TimeoutError) as e:
        fail("%s: %s" % (a.check, e))
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
