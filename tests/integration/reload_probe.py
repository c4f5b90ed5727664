#!/usr/bin/python3
"""Probes for test_reload_keys.sh (stdlib only): each measures the effect of
one reloadable key over UDP (or TCP) and prints one result on stdout.

Usage: reload_probe.py --server ADDR:PORT --bind IP [--user U --password P]
                       PROBE [ARG...]

Probes (results in brackets):
  perms N        Allocate, then one CreatePermission for N peers [0 or code]
  channels N     Allocate, then ChannelBind N channels, each to its own peer
                 [code of the last bind, 0 = success]
  channel HEX    Allocate, then ChannelBind of channel number HEX [0 or code]
  lifetime [L]   Allocate (asking for L seconds) [LIFETIME granted]
  quota U:P...   Allocate as each user in turn, all held open, each from
                 127.(100+i).N.1 where --bind is 127.0.N.1 [codes]
  realm          an Allocate without credentials [REALM of the 401]
  unauth N       N Binding requests back to back [answers in 1 s]
  bps N SIZE     Allocate, permission, N Send indications of SIZE bytes to our
                 own peer socket within 0.2 s [datagrams the peer got in 1.5 s]
  idle S         TCP connection with no request [seconds until the server
                 closed it, or "open" after S seconds]
  conns N        N TCP connections at once [how many are open after 0.5 s]

Every socket operation is bounded by a timeout. Each probe sends from its
own --bind address so the per-/24 unauthenticated rate limit of one probe
does not throttle the next.
"""

import argparse
import hashlib
import hmac
import os
import socket
import struct
import sys
import time

MAGIC = 0x2112A442
BINDING, ALLOCATE, CREATE_PERMISSION, CHANNEL_BIND, SEND = 0x001, 0x003, 0x008, 0x009, 0x016
A_USERNAME, A_MI, A_ERROR, A_LIFETIME, A_PEER = 0x0006, 0x0008, 0x0009, 0x000D, 0x0012
A_DATA, A_REALM, A_NONCE, A_RELAYED, A_TRANSPORT = 0x0013, 0x0014, 0x0015, 0x0016, 0x0019
A_CHANNEL = 0x000C


def attr(typ, value):
    return struct.pack("!HH", typ, len(value)) + value + b"\0" * ((4 - len(value) % 4) % 4)


def stun(msg_type, attrs=b""):
    tid = os.urandom(12)
    return struct.pack("!HHI", msg_type, len(attrs), MAGIC) + tid + attrs, tid


def parse(data):
    msg_type, length, cookie = struct.unpack("!HHI", data[:8])
    if cookie != MAGIC or len(data) < 20 + length:
        return None, None, {}
    attrs, pos = {}, 20
    while pos + 4 <= 20 + length:
        typ, alen = struct.unpack("!HH", data[pos:pos + 4])
        attrs.setdefault(typ, data[pos + 4:pos + 4 + alen])
        pos += 4 + alen + (4 - alen % 4) % 4
    return msg_type, data[8:20], attrs


def error_code(attrs):
    v = attrs.get(A_ERROR)
    return 0 if v is None else (v[2] & 7) * 100 + v[3]


def xor_peer(host, port):
    ip = bytes(a ^ b for a, b in zip(socket.inet_aton(host), struct.pack("!I", MAGIC)))
    return struct.pack("!BBH", 0, 1, port ^ (MAGIC >> 16)) + ip


class Client:
    """One UDP client socket with long-term credentials."""

    def __init__(self, server, bind, user, password):
        self.server, self.user, self.password = server, user, password
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((bind, 0))
        self.realm = self.nonce = self.key = None

    def exchange(self, msg, tid, timeout=2.0):
        self.sock.sendto(msg, self.server)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                data = self.sock.recv(2048)
            except socket.timeout:
                break
            t, rtid, attrs = parse(data)
            if rtid == tid:
                return t, attrs
        return None, {}

    def request(self, msg_type, body=b""):
        """A request with credentials (after one 401 to learn realm and
        nonce). Returns (code, attrs); code 0 = success, None = no answer."""
        for _ in range(3):
            if self.key is None:
                msg, tid = stun(msg_type, body)
            else:
                full = body + attr(A_USERNAME, self.user.encode()) + attr(A_REALM, self.realm) + \
                    attr(A_NONCE, self.nonce)
                msg, tid = stun(msg_type, full)
                length = struct.unpack("!H", msg[2:4])[0] + 24
                msg = msg[:2] + struct.pack("!H", length) + msg[4:]
                msg += attr(A_MI, hmac.new(self.key, msg, "sha1").digest())
            t, attrs = self.exchange(msg, tid)
            if t is None:
                return None, {}
            code = error_code(attrs)
            if code in (401, 438) and A_NONCE in attrs:
                self.realm, self.nonce = attrs[A_REALM], attrs[A_NONCE]
                self.key = hashlib.md5(b"%s:%s:%s" % (self.user.encode(), self.realm,
                                                      self.password.encode())).digest()
                continue
            return code, attrs
        return code, attrs

    def allocate(self, lifetime=None):
        body = attr(A_TRANSPORT, b"\x11\0\0\0")
        if lifetime is not None:
            body += attr(A_LIFETIME, struct.pack("!I", lifetime))
        return self.request(ALLOCATE, body)


def peers(n):
    """n peers on n addresses: a permission is per IP address."""
    return [("127.0.0.%d" % (1 + i), 5000) for i in range(n)]


def probe_perms(a, c):
    code, _ = c.allocate()
    if code != 0:
        return "allocate:%s" % code
    code, _ = c.request(CREATE_PERMISSION, b"".join(attr(A_PEER, xor_peer(*p))
                                                     for p in peers(int(a.args[0]))))
    return str(code)


def probe_channels(a, c):
    code, _ = c.allocate()
    if code != 0:
        return "allocate:%s" % code
    for i, p in enumerate(peers(int(a.args[0]))):
        body = attr(A_CHANNEL, struct.pack("!HH", 0x4000 + i, 0)) + attr(A_PEER, xor_peer(*p))
        code, _ = c.request(CHANNEL_BIND, body)
    return str(code)


def probe_channel(a, c):
    code, _ = c.allocate()
    if code != 0:
        return "allocate:%s" % code
    body = attr(A_CHANNEL, struct.pack("!HH", int(a.args[0], 16), 0)) + \
        attr(A_PEER, xor_peer("127.0.0.1", 5000))
    return str(c.request(CHANNEL_BIND, body)[0])


def probe_lifetime(a, c):
    code, attrs = c.allocate(int(a.args[0]) if a.args else None)
    if code != 0 or A_LIFETIME not in attrs:
        return "allocate:%s" % code
    return str(struct.unpack("!I", attrs[A_LIFETIME])[0])


def probe_quota(a, c):
    held, codes = [], []
    net = a.bind.split(".")[2]
    for i, cred in enumerate(a.args):
        user, password = cred.split(":", 1)
        # each from its own /24: the 401 each gets is rate limited per /24
        cl = Client(c.server, "127.%d.%s.1" % (100 + i, net), user, password)
        code, _ = cl.allocate()
        codes.append(str(code))
        held.append(cl)
    return " ".join(codes)


def probe_realm(a, c):
    msg, tid = stun(ALLOCATE, attr(A_TRANSPORT, b"\x11\0\0\0"))
    t, attrs = c.exchange(msg, tid)
    return attrs.get(A_REALM, b"none").decode()


def probe_unauth(a, c):
    for _ in range(int(a.args[0])):
        c.sock.sendto(stun(BINDING)[0], c.server)
    got, end = 0, time.monotonic() + 1.0
    while time.monotonic() < end:
        c.sock.settimeout(max(0.01, end - time.monotonic()))
        try:
            c.sock.recv(2048)
            got += 1
        except socket.timeout:
            break
    return str(got)


def probe_bps(a, c):
    n, size = int(a.args[0]), int(a.args[1])
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    target = peer.getsockname()
    code, _ = c.allocate()
    if code != 0:
        return "allocate:%s" % code
    code, _ = c.request(CREATE_PERMISSION, attr(A_PEER, xor_peer(*target)))
    if code != 0:
        return "permission:%s" % code
    for _ in range(n):
        msg, _tid = stun(SEND, attr(A_PEER, xor_peer(*target)) + attr(A_DATA, b"x" * size))
        c.sock.sendto(msg, c.server)
        time.sleep(0.2 / n)
    got, end = 0, time.monotonic() + 1.5
    while time.monotonic() < end:
        peer.settimeout(max(0.01, end - time.monotonic()))
        try:
            peer.recv(65536)
            got += 1
        except socket.timeout:
            break
    return str(got)


def probe_idle(a, c):
    s = socket.create_connection(c.server, timeout=3, source_address=(a.bind, 0))
    start, limit = time.monotonic(), float(a.args[0])
    s.settimeout(limit)
    try:
        data = s.recv(1)
    except socket.timeout:
        return "open"
    except ConnectionResetError:
        data = b""
    return "%.1f" % (time.monotonic() - start) if not data else "data"


def probe_conns(a, c):
    socks = []
    for _ in range(int(a.args[0])):
        socks.append(socket.create_connection(c.server, timeout=3, source_address=(a.bind, 0)))
    time.sleep(0.5)
    open_ = 0
    for s in socks:
        s.setblocking(False)
        try:
            open_ += s.recv(1) != b""
        except BlockingIOError:
            open_ += 1
        except ConnectionResetError:
            pass
    return str(open_)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True)
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--user", default="u1")
    p.add_argument("--password", default="p1-pass")
    p.add_argument("probe")
    p.add_argument("args", nargs="*")
    a = p.parse_args()
    host, port = a.server.rsplit(":", 1)
    c = Client((host, int(port)), a.bind, a.user, a.password)
    print(globals()["probe_" + a.probe](a, c), flush=True)


if __name__ == "__main__":
    sys.exit(main())
