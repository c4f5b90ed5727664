#!/usr/bin/python3
"""Clients for test_fd_limits.sh (stdlib only): a server run with a low file
descriptor limit. Prints one line per assertion, "ok: ..." or "FAIL: ...",
and exits 1 if any failed. Every socket operation has a timeout.

Checks:
  allocate    --count UDP Allocates, each from its own socket, held. With
              --expect-quota N: exactly N succeed, the rest get 486. With
              --expect-508: some succeed, the rest get 508 (no other code).
              With --secret, each Allocate uses a freshly minted TURN REST
              credential "<expiry>:<--rest-id>" (a new expiry each time).
              Then --release of them end (Refresh LIFETIME 0) and a new
              Allocate succeeds: the server recovers. Prints "successes=N".
  tcp-flood   --count TCP connections from --sources addresses 127.0.6.x,
              held for --hold seconds while the server (--pid) may use at
              most --max-cpu seconds of CPU; then all close and a new TCP
              connection gets a Binding answer within --recover seconds.
"""

import argparse
import base64
import hashlib
import hmac
import os
import socket
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stream_abuse import (ALLOCATE, ATTR_NONCE, ATTR_REALM, ATTR_REQUESTED_TRANSPORT,  # noqa: E402
                          ATTR_USERNAME, attr, binding_ok, check, connect, error_code,
                          hostport, ok, parse, stun, with_integrity)
import stream_abuse  # noqa: E402

REFRESH = 0x0004
ATTR_LIFETIME = 0x000D


class UdpClient:
    """One UDP socket with its credentials once challenged."""

    def __init__(self, server, user, password):
        self.server = server
        self.user = user.encode()
        self.password = password.encode()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.realm = self.nonce = self.key = None

    def exchange(self, msg, tid, tries=3):
        for _ in range(tries):
            self.sock.sendto(msg, self.server)
            end = time.monotonic() + 1.0
            while time.monotonic() < end:
                self.sock.settimeout(max(0.01, end - time.monotonic()))
                try:
                    data, _ = self.sock.recvfrom(2048)
                except socket.timeout:
                    break
                t, rtid, attrs = parse(data)
                if rtid == tid:
                    return t, attrs
        return None, {}

    def signed(self, method, body):
        body += (attr(ATTR_USERNAME, self.user) + attr(ATTR_REALM, self.realm) +
                 attr(ATTR_NONCE, self.nonce))
        req, tid = stun(method, body)
        return with_integrity(req, self.key), tid

    def allocate(self):
        """0 on success, else the error code (or 'timeout')."""
        transport = attr(ATTR_REQUESTED_TRANSPORT, b"\x11\0\0\0")
        req, tid = stun(ALLOCATE, transport)
        t, attrs = self.exchange(req, tid)
        if t is None:
            return "timeout"
        if error_code(attrs) != 401:
            return error_code(attrs)
        self.realm, self.nonce = attrs[ATTR_REALM], attrs[ATTR_NONCE]
        self.key = hashlib.md5(self.user + b":" + self.realm + b":" + self.password).digest()
        req, tid = self.signed(ALLOCATE, transport)
        t, attrs = self.exchange(req, tid)
        if t is None:
            return "timeout"
        return 0 if t == 0x0103 else error_code(attrs)

    def release(self):
        req, tid = self.signed(REFRESH, attr(ATTR_LIFETIME, b"\0\0\0\0"))
        t, attrs = self.exchange(req, tid)
        return t == 0x0104

    def close(self):
        self.sock.close()


def rest_credential(secret, rest_id, expiry):
    """A TURN REST username "<expiry>:<id>" and its password."""
    user = "%d:%s" % (expiry, rest_id)
    mac = hmac.new(secret.encode(), user.encode(), "sha1").digest()
    return user, base64.b64encode(mac).decode()


def new_client(a, server, i):
    if a.secret:
        # a freshly minted credential each time: a new expiry, the same id
        user, password = rest_credential(a.secret, a.rest_id, int(time.time()) + 3600 + i)
        return UdpClient(server, user, password)
    return UdpClient(server, a.user, a.password)


def check_allocate(a):
    server = hostport(a.server)
    clients, codes = [], {}
    for i in range(a.count):
        c = new_client(a, server, i)
        code = c.allocate()
        codes[code] = codes.get(code, 0) + 1
        if code == 0:
            clients.append(c)
        else:
            c.close()
    got = ", ".join("%s: %d" % ("success" if k == 0 else k, v) for k, v in sorted(
        codes.items(), key=lambda kv: str(kv[0])))
    successes = codes.get(0, 0)
    if a.expect_quota is not None:
        check(successes == a.expect_quota and codes.get(486, 0) == a.count - successes,
              "%d Allocates: %s (expected %d successes, then 486)" %
              (a.count, got, a.expect_quota))
    if a.expect_508:
        check(0 < successes < a.count and codes.get(508, 0) == a.count - successes,
              "%d Allocates past the descriptor limit: %s (expected successes, then 508)" %
              (a.count, got))
    print("successes=%d" % successes, flush=True)
    if a.release:
        released = sum(c.release() for c in clients[:a.release])
        check(released == min(a.release, len(clients)),
              "%d allocations released (Refresh LIFETIME 0)" % released)
        c = new_client(a, server, a.count)
        code = c.allocate()
        check(code == 0, "after the release a new Allocate: %s" %
              ("success" if code == 0 else code))
        c.close()
    for c in clients:
        c.close()


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime: fields 14 and 15 of stat(5), counted from the state (3)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def check_tcp_flood(a):
    server = hostport(a.server)
    conns, failed = [], 0
    for i in range(a.count):
        try:
            conns.append(connect(server, "127.0.6.%d" % (1 + i % a.sources), timeout=2.0))
        except OSError:
            failed += 1
    ok("%d TCP connections opened (%d connects failed), past the server's descriptor limit" %
       (len(conns), failed))
    cpu0, t0 = cpu_seconds(a.pid), time.monotonic()
    time.sleep(a.hold)
    used, spent = cpu_seconds(a.pid) - cpu0, time.monotonic() - t0
    check(used <= a.max_cpu, "server CPU while the connections wait: %.2f s in %.1f s "
          "(limit %.2f s: accept() must not spin)" % (used, spent, a.max_cpu))
    for s in conns:
        s.close()
    end = time.monotonic() + a.recover
    served = False
    while not served and time.monotonic() < end:
        try:
            s = connect(server, "127.0.7.1", timeout=1.0)
            served = binding_ok(s, "", report=False)
            s.close()
        except OSError:
            pass
        if not served:
            time.sleep(0.2)
    check(served, "after the connections closed, a new TCP connection is served within %.0f s"
          % a.recover)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("check", choices=["allocate", "tcp-flood"])
    p.add_argument("--server", required=True, help="ADDR:PORT (UDP for allocate, TCP for flood)")
    p.add_argument("--user", default="u")
    p.add_argument("--password", default="p")
    p.add_argument("--secret", help="TURN REST secret: usernames <expiry>:<--rest-id>")
    p.add_argument("--rest-id", default="alice")
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--expect-quota", type=int)
    p.add_argument("--expect-508", action="store_true")
    p.add_argument("--release", type=int, default=0)
    p.add_argument("--pid", type=int)
    p.add_argument("--sources", type=int, default=10)
    p.add_argument("--hold", type=float, default=3.0)
    p.add_argument("--max-cpu", type=float, default=0.5)
    p.add_argument("--recover", type=float, default=5.0)
    a = p.parse_args()
    {"allocate": check_allocate, "tcp-flood": check_tcp_flood}[a.check](a)
    sys.exit(1 if stream_abuse.FAILURES else 0)


if __name__ == "__main__":
    main()
