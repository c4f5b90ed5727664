#!/usr/bin/python3
"""Abusive TURN-over-TCP/TLS clients for test_stream_abuse.sh (stdlib only).

Usage: stream_abuse.py CHECK [options]; prints one line per assertion,
"ok: ..." or "FAIL: ...", and exits 1 if any assertion failed. Every socket
operation is bounded by a timeout.

Checks:
  framing     partial frames (1-byte writes), two requests in one write,
              garbage first byte, STUN length not a multiple of 4
  timeouts    never-completed 65532-byte frame, silent connection, one byte
              every 0.5 s, TLS without ClientHello, half a ClientHello:
              each closed after --idle / --handshake seconds, concurrently
  cap-ip      --per-ip connections from --bind work, one more is closed at
              once, another source address still works, freed slots reusable
  cap-total   --max connections in all (from several 127.x addresses,
              --existing of them already open elsewhere): the next is closed
  alloc-free  with a one-port relay range: Allocate over TCP, a second one
              gets 508, closing the first connection frees the port at once
  oversize    --count connections from --sources addresses 127.0.4.x, each
              announcing a 65532-byte frame and sending most of it: each is
              closed within 1 s, the server's RSS (--pid) grows by less than
              --max-rss-mib, while a connection with an allocation sends an
              8 KiB request and keeps getting answers; with --tls, a TLS
              connection gets 4096 bytes answered and is closed at 65532
"""

import argparse
import selectors
import hashlib
import hmac
import os
import socket
import ssl
import struct
import sys
import threading
import time

MAGIC = 0x2112A442
BINDING = 0x0001
ALLOCATE = 0x0003
ATTR_USERNAME = 0x0006
ATTR_MESSAGE_INTEGRITY = 0x0008
ATTR_ERROR_CODE = 0x0009
ATTR_REALM = 0x0014
ATTR_NONCE = 0x0015
ATTR_REQUESTED_TRANSPORT = 0x0019
ATTR_XOR_MAPPED_ADDRESS = 0x0020
ATTR_XOR_RELAYED_ADDRESS = 0x0016

FAILURES = 0
LOCK = threading.Lock()


def ok(msg):
    with LOCK:
        print("ok: " + msg, flush=True)


def fail(msg):
    global FAILURES
    with LOCK:
        FAILURES += 1
        print("FAIL: " + msg, flush=True)


def check(cond, msg):
    if cond:
        ok(msg)
    else:
        fail(msg)
    return cond


def hostport(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


# --- STUN -----------------------------------------------------------------


def attr(typ, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", typ, len(value)) + value + b"\0" * pad


def stun(msg_type, attrs=b"", tid=None):
    tid = tid or os.urandom(12)
    return struct.pack("!HHI", msg_type, len(attrs), MAGIC) + tid + attrs, tid


def with_integrity(msg, key):
    """Appends MESSAGE-INTEGRITY (HMAC-SHA1 over the message with its
    length already counting the attribute, RFC 8489 14.5)."""
    length = struct.unpack("!H", msg[2:4])[0] + 24
    head = msg[:2] + struct.pack("!H", length) + msg[4:]
    mac = hmac.new(key, head, "sha1").digest()
    return head + attr(ATTR_MESSAGE_INTEGRITY, mac)


def parse(frame):
    """(type, tid, {attr: value}) of one STUN message."""
    msg_type, length, cookie = struct.unpack("!HHI", frame[:8])
    if cookie != MAGIC or len(frame) != 20 + length:
        raise ValueError("not a STUN message: %r" % frame[:20])
    attrs, pos = {}, 20
    while pos + 4 <= len(frame):
        typ, alen = struct.unpack("!HH", frame[pos:pos + 4])
        attrs.setdefault(typ, frame[pos + 4:pos + 4 + alen])
        pos += 4 + alen + (4 - alen % 4) % 4
    return msg_type, frame[8:20], attrs


def xor_address(value, tid):
    family, xport = struct.unpack("!xBH", value[:4])
    if family != 1:
        return None
    port = xport ^ (MAGIC >> 16)
    ip = bytes(a ^ b for a, b in zip(value[4:8], struct.pack("!I", MAGIC)))
    return socket.inet_ntoa(ip), port


def error_code(attrs):
    v = attrs.get(ATTR_ERROR_CODE)
    return None if v is None else (v[2] & 7) * 100 + v[3]


def recv_exact(sock, n, timeout):
    """n bytes, or b'' if the peer closed (or reset) first; raises
    socket.timeout when nothing complete arrived in time."""
    end = time.monotonic() + timeout
    buf = b""
    while len(buf) < n:
        left = end - time.monotonic()
        if left <= 0:
            raise socket.timeout("timed out")
        sock.settimeout(left)
        try:
            chunk = sock.recv(n - len(buf))
        except (ConnectionResetError, BrokenPipeError):
            return b""
        if not chunk:
            return b""
        buf += chunk
    return buf


def recv_frame(sock, timeout=3.0):
    hdr = recv_exact(sock, 20, timeout)
    if len(hdr) < 20:
        return b""
    length = struct.unpack("!H", hdr[2:4])[0]
    return hdr + recv_exact(sock, length, timeout) if length else hdr


def connect(server, bind=None, timeout=3.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(timeout)
    if bind:
        s.bind((bind, 0))
    s.connect(server)
    return s


def binding_ok(sock, what, report=True):
    """Sends a Binding request, checks the response: right transaction, and
    XOR-MAPPED-ADDRESS = our address. Returns True/False."""
    req, tid = stun(BINDING)
    try:
        sock.sendall(req)
        frame = recv_frame(sock)
    except (OSError, socket.timeout) as e:
        if report:
            fail("%s: Binding over the connection: %s" % (what, e))
        return False
    if not frame:
        if report:
            fail("%s: connection closed instead of a Binding response" % what)
        return False
    good = binding_response_ok(frame, tid, sock.getsockname())
    if report:
        check(good, "%s: Binding response" % what)
    return good


def binding_response_ok(frame, tid, local):
    try:
        t, rtid, attrs = parse(frame)
    except ValueError:
        return False
    mapped = attrs.get(ATTR_XOR_MAPPED_ADDRESS)
    return (t == 0x0101 and rtid == tid and mapped is not None and
            xor_address(mapped, tid) == local[:2])


def closed_within(sock, timeout):
    """Seconds until the server closed the connection (EOF or reset), None if
    it was still open after timeout. Anything the server sends is drained."""
    start = time.monotonic()
    end = start + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            return None
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - start
        if not data:
            return time.monotonic() - start


# --- checks -----------------------------------------------------------------


def check_framing(a):
    server = hostport(a.server)
    witness = connect(server, a.bind)
    binding_ok(witness, "witness connection before the abuse")

    # (a) one request in 1-byte writes 20 ms apart
    s = connect(server, a.bind)
    req, tid = stun(BINDING)
    for b in req:
        s.sendall(bytes([b]))
        time.sleep(0.02)
    frame = recv_frame(s)
    check(binding_response_ok(frame, tid, s.getsockname()),
          "Binding request in %d one-byte writes: one correct response" % len(req))
    # then a request split 3 + 17 + 0 across two writes far apart
    req, tid = stun(BINDING)
    s.sendall(req[:3])
    time.sleep(0.3)
    s.sendall(req[3:])
    check(binding_response_ok(recv_frame(s), tid, s.getsockname()),
          "Binding request split 3+17 bytes, 0.3 s apart: correct response")
    # two requests in one write, and a request plus the start of another
    r1, t1 = stun(BINDING)
    r2, t2 = stun(BINDING)
    s.sendall(r1 + r2)
    f1, f2 = recv_frame(s), recv_frame(s)
    check(binding_response_ok(f1, t1, s.getsockname()) and
          binding_response_ok(f2, t2, s.getsockname()),
          "two Binding requests in one write: two correct responses, in order")
    r3, t3 = stun(BINDING)
    r4, t4 = stun(BINDING)
    s.sendall(r3 + r4[:7])
    f3 = recv_frame(s)
    time.sleep(0.1)
    s.sendall(r4[7:])
    f4 = recv_frame(s)
    check(binding_response_ok(f3, t3, s.getsockname()) and
          binding_response_ok(f4, t4, s.getsockname()),
          "a request and 7 bytes of the next in one write: both answered")
    s.close()

    # (b) garbage first byte, and a STUN length that is not a multiple of 4
    cases = [
        ("first byte 0xFF", b"\xff" + os.urandom(19)),
        ("first byte 0x80 (neither STUN nor ChannelData)", b"\x80\x01\x00\x00" + os.urandom(16)),
        ("STUN header with length 6", stun(BINDING)[0][:2] + b"\x00\x06" +
         stun(BINDING)[0][4:] + b"\0" * 6),
        ("valid request followed by garbage", stun(BINDING)[0] + b"\xff\xff\xff\xff"),
    ]
    for what, data in cases:
        s = connect(server, a.bind)
        s.sendall(data)
        t = closed_within(s, 3.0)
        check(t is not None and t < 1.0,
              "%s: server closed the connection (after %s)" %
              (what, "%.2f s" % t if t is not None else "no close within 3 s"))
        s.close()
    binding_ok(witness, "witness connection after the garbage connections")
    witness.close()

    # The same framing over TLS.
    if a.tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["stun.turn"])
        raw = connect(hostport(a.tls), a.bind)
        s = ctx.wrap_socket(raw)
        check(s.selected_alpn_protocol() == "stun.turn", "TLS: ALPN stun.turn selected (%s, %s)" %
              (s.selected_alpn_protocol(), s.version()))
        req, tid = stun(BINDING)
        for b in req:
            s.sendall(bytes([b]))
            time.sleep(0.01)
        check(binding_response_ok(recv_frame(s), tid, s.getsockname()),
              "TLS: Binding request in one-byte records: correct response")
        r1, t1 = stun(BINDING)
        r2, t2 = stun(BINDING)
        s.sendall(r1 + r2)
        f1, f2 = recv_frame(s), recv_frame(s)
        check(binding_response_ok(f1, t1, s.getsockname()) and
              binding_response_ok(f2, t2, s.getsockname()),
              "TLS: two Binding requests in one record: two responses")
        s.sendall(b"\xff" * 20)
        t = closed_within(s, 3.0)
        check(t is not None and t < 1.0, "TLS: garbage frame: server closed the connection")
        s.close()


def client_hello():
    """The bytes of a real TLS ClientHello, from a memory BIO."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_side=False)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def timed_close(results, what, sock, start, lo, hi, trickle=None):
    """Waits for the server to close sock, opened at start (monotonic);
    trickle: bytes to send one at a time every 0.5 s meanwhile. Records
    (what, seconds from start to the close or None, lo, hi, bytes sent)."""
    closed = None
    data = trickle or b""
    i = 0
    while time.monotonic() - start < hi + 2:
        if i < len(data):
            try:
                sock.sendall(data[i:i + 1])
            except (ConnectionResetError, BrokenPipeError):
                closed = time.monotonic() - start
                break
            i += 1
        if closed_within(sock, 0.5 if trickle else hi + 2) is not None:
            closed = time.monotonic() - start
            break
    results.append((what, closed, lo, hi, i))
    sock.close()


def late_in_second(frac=0.95):
    """Sleeps until CLOCK_MONOTONIC is frac into a second. A server that
    keeps deadlines in whole seconds and truncates "now" closes connections
    opened then up to a second early: this is the worst case for it."""
    now = time.monotonic()
    wait = (frac - (now % 1.0)) % 1.0
    time.sleep(wait)


def check_timeouts(a):
    server = hostport(a.server)
    idle, hs = a.idle, a.handshake
    results = []
    jobs = []  # (what, socket, opened at, timeout, bytes to trickle)
    # one source address per connection, so that the per-address cap of
    # the server does not decide anything here
    addrs = ("127.0.2.%d" % i for i in range(1, 200))

    def opened(what, dest, timeout, first=b"", trickle=None):
        sock = connect(dest, next(addrs))
        start = time.monotonic()
        if first:
            sock.sendall(first)
        jobs.append((what, sock, start, timeout, trickle))

    hello = client_hello() if a.tls else b""
    late_in_second()
    # (c) a STUN header announcing 4000 bytes (under max-unauth-frame, so
    # it waits for the rest), then nothing; the same with 3000 bytes sent
    opened("header announcing 4000 bytes, then nothing", server, idle,
           struct.pack("!HHI", BINDING, 4000, MAGIC) + os.urandom(12))
    opened("4000-byte frame with 3000 bytes sent, then nothing", server, idle,
           struct.pack("!HHI", BINDING, 4000, MAGIC) + os.urandom(12) + b"\0" * 3000)
    # (d) nothing at all; one byte of a never-complete frame every 0.5 s
    opened("connection that sends nothing", server, idle)
    opened("one byte every 0.5 s of a 420-byte frame", server, idle,
           trickle=struct.pack("!HHI", BINDING, 400, MAGIC) + os.urandom(12) + b"\0" * 400)
    if a.tls:
        # (e) TLS: no ClientHello; half a ClientHello; a ClientHello trickled
        tls = hostport(a.tls)
        opened("TLS connection that never sends a ClientHello", tls, hs)
        opened("TLS connection that sends half a ClientHello (%d of %d bytes)" %
               (len(hello) // 2, len(hello)), tls, hs, hello[:len(hello) // 2])
        opened("TLS ClientHello trickled one byte every 0.5 s", tls, hs, trickle=hello)
    # a whole request moves the deadline: closed idle seconds after it
    s = connect(server, next(addrs))
    if binding_ok(s, "request-then-silence connection"):
        jobs.append(("a Binding request, then nothing", s, time.monotonic(), idle, None))

    threads = [threading.Thread(target=timed_close,
                                args=(results, what, sock, start, t, t + a.slack, tr))
               for what, sock, start, t, tr in jobs]
    for t in threads:
        t.start()
    # meanwhile a well-behaved client keeps getting answers; it holds an
    # allocation, as only that keeps a connection past idle-timeout
    good = connect(server, next(addrs))
    code, _ = allocate(good, a.user, a.password)
    check(code == 0, "well-behaved connection: Allocate: %s" % ("success" if code == 0 else code))
    answered = 0
    asked = 0
    while any(t.is_alive() for t in threads):
        asked += 1
        answered += binding_ok(good, "well-behaved connection", report=False)
        time.sleep(0.25)
    for t in threads:
        t.join()
    check(asked > 0 and answered == asked,
          "a well-behaved connection got %d/%d Binding responses meanwhile" % (answered, asked))
    good.close()
    for what, closed, lo, hi, sent in sorted(results):
        extra = " (%d bytes trickled)" % sent if sent else ""
        if closed is None:
            fail("%s: not closed within %.1f s%s" % (what, hi + 2, extra))
        else:
            check(lo - a.early <= closed <= hi,
                  "%s: closed after %.2f s, expected %.1f-%.1f s%s" %
                  (what, closed, lo - a.early, hi, extra))


def open_stream(server, bind):
    """A connection that answers a Binding request, or None (and the reason)."""
    try:
        s = connect(server, bind)
    except OSError as e:
        return None, "connect: %s" % e
    if binding_ok(s, "", report=False):
        return s, None
    s.close()
    return None, "no Binding response"


def refused_at_once(server, bind, what):
    """Asserts that a new connection from bind is accepted and closed at once
    without an answer."""
    try:
        s = connect(server, bind)
    except OSError as e:
        # a refused connect is also "not served"; say so
        ok("%s: connect refused (%s)" % (what, e))
        return
    t = closed_within(s, 2.0)
    check(t is not None and t < 0.5,
          "%s: closed by the server (%s)" % (what, "after %.3f s" % t if t is not None
                                              else "still open after 2 s"))
    s.close()


def check_cap_ip(a):
    server = hostport(a.server)
    conns = []
    for i in range(a.per_ip):
        s, why = open_stream(server, a.bind)
        if not s:
            fail("connection %d of %d from %s: %s" % (i + 1, a.per_ip, a.bind, why))
            return
        conns.append(s)
    ok("%d connections from %s served" % (a.per_ip, a.bind))
    refused_at_once(server, a.bind, "connection %d from %s" % (a.per_ip + 1, a.bind))
    refused_at_once(server, a.bind, "connection %d from %s, again" % (a.per_ip + 1, a.bind))
    other, why = open_stream(server, a.other)
    check(other is not None, "meanwhile a connection from %s is served%s" %
          (a.other, "" if other else ": " + str(why)))
    check(all(binding_ok(s, "", report=False) for s in conns),
          "the %d connections from %s are still served" % (a.per_ip, a.bind))
    for s in conns:
        s.close()
    # the server sees the FINs; allow it a moment
    time.sleep(0.3)
    again = []
    for i in range(a.per_ip):
        s, why = open_stream(server, a.bind)
        if not s:
            fail("after closing the %d: new connection %d from %s: %s" %
                 (a.per_ip, i + 1, a.bind, why))
            break
        again.append(s)
    else:
        ok("after closing the %d, %d new connections from %s are served" %
           (a.per_ip, a.per_ip, a.bind))
    refused_at_once(server, a.bind, "connection %d from %s after the reopen" %
                    (a.per_ip + 1, a.bind))
    for s in again:
        s.close()
    if other:
        other.close()


def check_cap_total(a):
    server = hostport(a.server)
    room = a.max - a.existing
    conns = []
    for i in range(room):
        src = "127.0.1.%d" % (1 + i % 3)  # several addresses, a few from each
        s, why = open_stream(server, src)
        if not s:
            fail("connection %d of %d (from %s; %d already open): %s" %
                 (i + 1, room, src, a.existing, why))
            for c in conns:
                c.close()
            return
        conns.append(s)
    ok("%d connections from 127.0.1.1-3 served (%d were open already; max %d)" %
       (room, a.existing, a.max))
    refused_at_once(server, "127.0.1.9", "connection %d in all, from a fresh address" %
                    (a.max + 1))
    refused_at_once(server, "127.0.1.1", "connection %d in all, from 127.0.1.1" % (a.max + 1))
    check(all(binding_ok(c, "", report=False) for c in conns),
          "the %d open connections are still served" % room)
    conns.pop().close()
    time.sleep(0.3)
    s, why = open_stream(server, "127.0.1.9")
    check(s is not None, "after closing one, a new connection is served%s" %
          ("" if s else ": " + str(why)))
    refused_at_once(server, "127.0.1.8", "connection %d in all, after the reopen" % (a.max + 1))
    if s:
        s.close()
    for c in conns:
        c.close()


def allocate(sock, user, password, realm_expected=None):
    """Allocate with the 401 dance over sock. Returns (code, relayed) with
    code 0 for success."""
    req, tid = stun(ALLOCATE, attr(ATTR_REQUESTED_TRANSPORT, b"\x11\0\0\0"))
    sock.sendall(req)
    frame = recv_frame(sock)
    if not frame:
        return "closed", None
    t, rtid, attrs = parse(frame)
    if t != 0x0113 or error_code(attrs) != 401 or rtid != tid:
        return "unexpected first answer type 0x%04x code %s" % (t, error_code(attrs)), None
    realm, nonce = attrs[ATTR_REALM], attrs[ATTR_NONCE]
    key = hashlib.md5(b"%s:%s:%s" % (user.encode(), realm, password.encode())).digest()
    body = (attr(ATTR_REQUESTED_TRANSPORT, b"\x11\0\0\0") + attr(ATTR_USERNAME, user.encode()) +
            attr(ATTR_REALM, realm) + attr(ATTR_NONCE, nonce))
    req, tid = stun(ALLOCATE, body)
    sock.sendall(with_integrity(req, key))
    frame = recv_frame(sock)
    if not frame:
        return "closed", None
    t, rtid, attrs = parse(frame)
    if rtid != tid:
        return "wrong transaction", None
    if t == 0x0103:
        relayed = attrs.get(ATTR_XOR_RELAYED_ADDRESS)
        return 0, relayed and xor_address(relayed, tid)
    return error_code(attrs), None


def check_alloc_free(a):
    server = hostport(a.server)
    c1 = connect(server, a.bind)
    code, relayed = allocate(c1, a.user, a.password)
    if not check(code == 0, "Allocate over TCP: %s, relayed %s" %
                 ("success" if code == 0 else code, relayed)):
        return
    c2 = connect(server, a.bind)
    code, _ = allocate(c2, a.user, a.password)
    check(code == 508, "second Allocate over another TCP connection with the only relay port "
          "taken: %s (expected 508)" % code)
    c1.close()
    t0 = time.monotonic()
    # one new connection, one Allocate: no retry, no sleep beyond the round trips
    c3 = connect(server, a.bind)
    code, relayed = allocate(c3, a.user, a.password)
    check(code == 0, "after closing the first connection, Allocate on a new connection: %s "
          "(%.3f s after the close; relayed %s)" %
          ("success" if code == 0 else code, time.monotonic() - t0, relayed))
    # and on the connection that got 508, once the third is closed too
    c3.close()
    time.sleep(0.2)
    code, _ = allocate(c2, a.user, a.password)
    check(code == 0, "closing the third connection frees the port again: Allocate on the "
          "second connection: %s" % ("success" if code == 0 else code))
    c2.close()


def vm_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise ValueError("no VmRSS for pid %d" % pid)


def big_binding(size):
    """A Binding request of size bytes: padded with an unknown
    comprehension-optional attribute (0x8123), which the server ignores."""
    return stun(BINDING, attr(0x8123, b"\0" * (size - 20 - 4)))


def check_oversize(a):
    server = hostport(a.server)
    good = connect(server, "127.0.5.1")
    code, _ = allocate(good, a.user, a.password)
    check(code == 0, "connection with an allocation: Allocate: %s" %
          ("success" if code == 0 else code))
    req, tid = big_binding(8192)
    good.sendall(req)
    check(binding_response_ok(recv_frame(good), tid, good.getsockname()),
          "with an allocation, an 8192-byte Binding request is answered (no unauth limit)")
    before = vm_rss_kib(a.pid)
    frame = struct.pack("!HHI", BINDING, 65532, MAGIC) + os.urandom(12) + b"\0" * a.send
    sel = selectors.DefaultSelector()
    opened = {}  # socket -> time its bytes were sent
    closed = {}  # socket -> seconds from send to close
    refused = answered = asked = 0
    t0 = time.monotonic()
    for i in range(a.count):
        src = "127.0.4.%d" % (1 + i % a.sources)
        try:
            s = connect(server, src)
            s.setblocking(False)
            try:
                s.send(frame)  # as much as the socket takes; the rest is not needed
            except (BlockingIOError, ConnectionResetError, BrokenPipeError):
                pass
        except OSError:
            refused += 1
            continue
        opened[s] = time.monotonic()
        sel.register(s, selectors.EVENT_READ)
        if i % 100 == 99:
            # the well-behaved connection is answered in the middle of it
            asked += 1
            answered += binding_ok(good, "", report=False)
    open_s = time.monotonic() - t0
    deadline = time.monotonic() + 5
    while len(closed) < len(opened) and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                closed[s] = time.monotonic() - opened[s]
                sel.unregister(s)
    after = vm_rss_kib(a.pid)
    for s in opened:
        s.close()
    check(refused == 0, "%d connections from %d addresses opened in %.1f s (%d refused)" %
          (len(opened), a.sources, open_s, refused))
    late = [t for t in closed.values() if t >= 1.0]
    check(len(closed) == len(opened) and not late,
          "each announced a 65532-byte frame (%d bytes sent): %d of %d closed, slowest after "
          "%.2f s (limit 1 s)" % (len(frame), len(closed), len(opened),
                                  max(closed.values()) if closed else -1))
    grew = (after - before) / 1024.0
    check(grew < a.max_rss_mib, "server RSS %.1f MiB -> %.1f MiB: +%.1f MiB (limit %.0f)" %
          (before / 1024.0, after / 1024.0, grew, a.max_rss_mib))
    asked += 1
    answered += binding_ok(good, "", report=False)
    check(answered == asked, "the connection with an allocation got %d/%d Binding answers "
          "meanwhile" % (answered, asked))
    good.close()
    if a.tls:
        check_oversize_tls(a)


def check_oversize_tls(a):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["stun.turn"])
    s = ctx.wrap_socket(connect(hostport(a.tls), "127.0.5.2"))
    req, tid = big_binding(4096)
    s.sendall(req)
    check(binding_response_ok(recv_frame(s), tid, s.getsockname()),
          "TLS: a 4096-byte Binding request (max-unauth-frame) is answered")
    s.sendall(struct.pack("!HHI", BINDING, 65532, MAGIC) + os.urandom(12) + b"\0" * 8000)
    t = closed_within(s, 3.0)
    check(t is not None and t < 1.0, "TLS: a header announcing 65532 bytes closes the connection "
          "(%s)" % ("after %.2f s" % t if t is not None else "not within 3 s"))
    s.close()


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("check", choices=["framing", "timeouts", "cap-ip", "cap-total",
                                     "alloc-free", "oversize"])
    p.add_argument("--server", required=True, help="TCP ADDR:PORT")
    p.add_argument("--tls", help="TLS ADDR:PORT")
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--other", default="127.0.0.2")
    p.add_argument("--idle", type=float, default=2)
    p.add_argument("--handshake", type=float, default=2)
    p.add_argument("--slack", type=float, default=2,
                   help="seconds a close may come after its timeout")
    p.add_argument("--early", type=float, default=0.1,
                   help="seconds a close may come before its timeout")
    p.add_argument("--per-ip", type=int, default=5)
    p.add_argument("--max", type=int, default=8)
    p.add_argument("--existing", type=int, default=0)
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--pid", type=int, help="server pid (oversize: its RSS)")
    p.add_argument("--count", type=int, default=600)
    p.add_argument("--sources", type=int, default=20)
    p.add_argument("--send", type=int, default=60000,
                   help="oversize: bytes of the frame's body sent after its header")
    p.add_argument("--max-rss-mib", type=float, default=10)
    a = p.parse_args()
    {"framing": check_framing, "timeouts": check_timeouts, "cap-ip": check_cap_ip,
     "cap-total": check_cap_total, "alloc-free": check_alloc_free,
     "oversize": check_oversize}[a.check](a)
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
