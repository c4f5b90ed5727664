#!/usr/bin/python3
"""Sends unauthenticated UDP requests from many source ports of one /24 and
counts the answers.

    unauth_flood.py SERVER_ADDR PORT PREFIX COUNT SOCKETS

PREFIX is the first three octets of the loopback /24 to send from (e.g.
127.0.5): the sockets bind to PREFIX.1 .. PREFIX.4 with kernel-chosen
ports, so SO_REUSEPORT spreads them over the workers. PREFIX "spread":
socket i binds to 127.(100 + i / 250).(i % 250).1, each in its own /24, as
a flood forged from many prefixes would look. COUNT requests
(Allocate with REQUESTED-TRANSPORT and Binding, alternating) go out round
robin over SOCKETS sockets as fast as possible; answers are read while
sending and for one second after. Prints "sent=N answered=M seconds=S"."""
import os
import selectors
import socket
import struct
import sys
import time

COOKIE = 0x2112A442


def request(i):
    tid = os.urandom(12)
    if i % 2:
        return struct.pack("!HHI", 0x0001, 0, COOKIE) + tid
    body = struct.pack("!HH", 0x0019, 4) + bytes([17, 0, 0, 0])
    return struct.pack("!HHI", 0x0003, len(body), COOKIE) + tid + body


def main():
    addr, port, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    count, n_socks = int(sys.argv[4]), int(sys.argv[5])
    sel = selectors.DefaultSelector()
    socks = []
    for i in range(n_socks):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if prefix == "spread":
            s.bind(("127.%d.%d.1" % (100 + i // 250, i % 250), 0))
        else:
            s.bind(("%s.%d" % (prefix, 1 + i % 4), 0))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        socks.append(s)
    answered = 0

    def drain(timeout):
        nonlocal answered
        for key, _ in sel.select(timeout):
            while True:
                try:
                    key.fileobj.recv(2048)
                    answered += 1
                except BlockingIOError:
                    break

    start = time.monotonic()
    for i in range(count):
        socks[i % n_socks].sendto(request(i), (addr, port))
        if i % 100 == 99:
            drain(0)
    seconds = time.monotonic() - start
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        drain(0.1)
    print("sent=%d answered=%d seconds=%.3f" % (count, answered, seconds))


main()
