#!/usr/bin/python3
"""Many clients behind one address (a NAT) setting up allocations as fast
as they can: unauthenticated Allocate (401), authenticated Allocate, Refresh
LIFETIME 0, again, each client on its own source port, lost requests resent
after 500 ms. Prints "clients=N seconds=S setups=M rate=R".

    nat_setups.py SERVER_ADDR PORT SOURCE_ADDR CLIENTS SECONDS USER PASSWORD"""
import hashlib
import hmac
import os
import selectors
import socket
import struct
import sys
import time

COOKIE = 0x2112A442
ALLOCATE, REFRESH = 0x003, 0x004
USERNAME, MESSAGE_INTEGRITY, ERROR_CODE = 0x0006, 0x0008, 0x0009
REALM, NONCE, LIFETIME, REQUESTED_TRANSPORT = 0x0014, 0x0015, 0x000D, 0x0019


def attr(t, value):
    return struct.pack("!HH", t, len(value)) + value + b"\0" * ((4 - len(value) % 4) % 4)


def message(method, attrs, key=None):
    tid = os.urandom(12)
    if key is None:
        return struct.pack("!HHI", method, len(attrs), COOKIE) + tid + attrs
    head = struct.pack("!HHI", method, len(attrs) + 24, COOKIE) + tid
    mac = hmac.new(key, head + attrs, hashlib.sha1).digest()
    return head + attrs + attr(MESSAGE_INTEGRITY, mac)


def parse(data):
    mtype = struct.unpack("!H", data[:2])[0]
    attrs, off = {}, 20
    while off + 4 <= len(data):
        t, n = struct.unpack("!HH", data[off:off + 4])
        attrs.setdefault(t, data[off + 4:off + 4 + n])
        off += 4 + n + (4 - n % 4) % 4
    cls = ((mtype >> 7) & 2) | ((mtype >> 4) & 1)
    code = None
    if ERROR_CODE in attrs:
        code = (attrs[ERROR_CODE][2] & 7) * 100 + attrs[ERROR_CODE][3]
    return cls, code, attrs


class Client:
    def __init__(self, sock, user, password):
        self.sock, self.user, self.password = sock, user.encode(), password.encode()
        self.state, self.sent_at, self.req = 0, 0.0, b""
        self.realm = self.nonce = None

    def creds(self):
        key = hashlib.md5(self.user + b":" + self.realm + b":" + self.password).digest()
        return attr(USERNAME, self.user) + attr(REALM, self.realm) + attr(NONCE, self.nonce), key

    def send(self, now):
        udp = attr(REQUESTED_TRANSPORT, bytes([17, 0, 0, 0]))
        if self.state == 0:
            self.req = message(ALLOCATE, udp)
        elif self.state == 1:
            a, key = self.creds()
            self.req = message(ALLOCATE, udp + a, key)
        else:
            a, key = self.creds()
            self.req = message(REFRESH, attr(LIFETIME, struct.pack("!I", 0)) + a, key)
        self.sock.send(self.req)
        self.sent_at = now

    def answer(self, data, now):
        """True when a setup completed."""
        if data[8:20] != self.req[8:20]:
            return False
        cls, code, attrs = parse(data)
        done = False
        if self.state == 0 and code == 401:
            self.realm, self.nonce, self.state = attrs[REALM], attrs[NONCE], 1
        elif self.state == 1 and cls == 2:
            self.state = 2
        elif self.state == 2 and cls == 2:
            self.state, done = 0, True
        else:
            self.state = 0  # start over
        self.send(now)
        return done


def main():
    addr, port, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    n, seconds, user, password = int(sys.argv[4]), float(sys.argv[5]), sys.argv[6], sys.argv[7]
    sel = selectors.DefaultSelector()
    clients = []
    now = time.monotonic()
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((src, 0))
        s.connect((addr, port))
        s.setblocking(False)
        c = Client(s, user, password)
        sel.register(s, selectors.EVENT_READ, c)
        clients.append(c)
        c.send(now)
    setups, start = 0, time.monotonic()
    end = start + seconds
    while True:
        now = time.monotonic()
        if now >= end:
            break
        for key, _ in sel.select(0.05):
            while True:
                try:
                    data = key.fileobj.recv(2048)
                except (BlockingIOError, ConnectionRefusedError):
                    break
                setups += key.data.answer(data, time.monotonic())
        now = time.monotonic()
        for c in clients:
            if now - c.sent_at > 0.5:
                c.send(now)
    print("clients=%d seconds=%.1f setups=%d rate=%.0f" % (n, seconds, setups, setups / seconds))


main()
