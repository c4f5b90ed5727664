#!/usr/bin/python3
"""No reflection gain: sends the smallest request of every kind that gets an
answer (unauthenticated, over UDP) and checks the size of each answer.

    reflection.py ADDR PORT [--drain]

Every answer is at most 4x the request in STUN bytes, a Binding answer at
most 2x; the one exception is the 44-byte answer to a bare 20-byte IPv6
Binding (XOR-MAPPED-ADDRESS is 24 bytes), checked against whole IP
datagrams instead (IPv6 40 + UDP 8 bytes of headers each way: 1.35x).
With --drain the server is draining: a bare Allocate draws a 300.
Prints one line per case; exits 1 if any check failed."""
import os
import socket
import struct
import sys
import zlib

COOKIE = 0x2112A442
BINDING, ALLOCATE, REFRESH, CREATE_PERMISSION, CHANNEL_BIND = 0x001, 0x003, 0x004, 0x008, 0x009
UNKNOWN_METHOD = 0x00F  # unassigned; a request (class bits 0)
REQUESTED_TRANSPORT, ERROR_CODE, UNKNOWN_ATTRIBUTES, NONCE = 0x0019, 0x0009, 0x000A, 0x0015
FINGERPRINT = 0x8028
failures = 0


def attr(t, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", t, len(value)) + value + b"\0" * pad


def message(method, attrs=b"", fingerprint=False):
    tid = os.urandom(12)
    body = attrs
    if fingerprint:
        head = struct.pack("!HHI", method, len(body) + 8, COOKIE) + tid
        crc = (zlib.crc32(head + body) ^ 0x5354554E) & 0xFFFFFFFF
        body += attr(FINGERPRINT, struct.pack("!I", crc))
    return struct.pack("!HHI", method, len(body), COOKIE) + tid + body


def parse(data):
    """(class bits, method, {type: value}) of a STUN message."""
    mtype, length, cookie = struct.unpack("!HHI", data[:8])
    assert cookie == COOKIE and len(data) == 20 + length, "not one STUN message"
    attrs, off = {}, 20
    while off < len(data):
        t, n = struct.unpack("!HH", data[off:off + 4])
        attrs.setdefault(t, data[off + 4:off + 4 + n])
        off += 4 + n + (4 - n % 4) % 4
    cls = ((mtype >> 7) & 2) | ((mtype >> 4) & 1)
    return cls, mtype & 0x3EEF, attrs


def exchange(family, addr, port, req):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    try:
        s.sendto(req, (addr, port))
        return s.recvfrom(2048)[0]
    except socket.timeout:
        return None
    finally:
        s.close()


def check(name, ok, detail):
    global failures
    print(("ok   " if ok else "FAIL ") + name + ": " + detail)
    if not ok:
        failures += 1


def case(family, addr, port, name, req, bound, want_code=None, silent_ok=False, check_attrs=None):
    ip_hdr = 40 if family == socket.AF_INET6 else 20
    ans = exchange(family, addr, port, req)
    if ans is None:
        check(name, silent_ok, "%d bytes in, no answer" % len(req))
        return
    cls, _, attrs = parse(ans)
    code = None
    if ERROR_CODE in attrs:
        v = attrs[ERROR_CODE]
        code = (v[2] & 7) * 100 + v[3]
    ratio = len(ans) / len(req)
    if bound == "ip":
        ratio = (len(ans) + 8 + ip_hdr) / (len(req) + 8 + ip_hdr)
        limit, unit = 2.0, "IP datagrams"
    else:
        limit, unit = bound, "STUN bytes"
    detail = "%d bytes in, %d out (code %s): %.2fx in %s, limit %.0fx" % (
        len(req), len(ans), code, ratio, unit, limit)
    ok = ratio <= limit
    if want_code is not None and code != want_code:
        ok, detail = False, detail + "; expected code %d" % want_code
    if check_attrs is not None and not check_attrs(attrs):
        ok, detail = False, detail + "; attributes wrong"
    check(name, ok, detail)


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    drain = "--drain" in sys.argv[3:]
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    v6 = family == socket.AF_INET6
    fam = "ipv6" if v6 else "ipv4"
    udp = attr(REQUESTED_TRANSPORT, bytes([17, 0, 0, 0]))

    if drain:
        case(family, addr, port, fam + " draining: bare Allocate (300)",
             message(ALLOCATE), 4, want_code=300)
        case(family, addr, port, fam + " draining: Allocate with REQUESTED-TRANSPORT (300)",
             message(ALLOCATE, udp), 4, want_code=300)
        return
    case(family, addr, port, fam + " bare Binding", message(BINDING), "ip" if v6 else 2)
    case(family, addr, port, fam + " Binding with FINGERPRINT",
         message(BINDING, fingerprint=True), 2)
    case(family, addr, port, fam + " bare Allocate", message(ALLOCATE), 4, want_code=400,
         check_attrs=lambda a: NONCE not in a)
    case(family, addr, port, fam + " Allocate with REQUESTED-TRANSPORT",
         message(ALLOCATE, udp), 4, want_code=401, check_attrs=lambda a: NONCE in a)
    case(family, addr, port, fam + " Allocate with REQUESTED-TRANSPORT and FINGERPRINT",
         message(ALLOCATE, udp, fingerprint=True), 4, want_code=401,
         check_attrs=lambda a: NONCE in a and FINGERPRINT in a)
    for name, method in (("Refresh", REFRESH), ("CreatePermission", CREATE_PERMISSION),
                         ("ChannelBind", CHANNEL_BIND)):
        case(family, addr, port, fam + " bare %s without allocation" % name, message(method), 4,
             silent_ok=True)
    case(family, addr, port, fam + " unknown method", message(UNKNOWN_METHOD), 4, want_code=400)
    case(family, addr, port, fam + " unknown comprehension-required attribute (Binding)",
         message(BINDING, attr(0x0031, b"")), 4, want_code=420,
         check_attrs=lambda a: a.get(UNKNOWN_ATTRIBUTES) == b"\x00\x31")
    case(family, addr, port, fam + " unknown comprehension-required attribute (Allocate)",
         message(ALLOCATE, attr(0x0031, b"")), 4, want_code=420,
         check_attrs=lambda a: a.get(UNKNOWN_ATTRIBUTES) == b"\x00\x31")


main()
sys.exit(1 if failures else 0)
