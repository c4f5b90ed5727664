#!/usr/bin/python3
"""TCP and TLS probes for test_proxy_protocol.sh (standard library only).

binding: connects (from --bind), optionally sends a PROXY protocol v2
header first (--header), then TLS when --tls, then a STUN Binding request;
prints "local=IP:PORT mapped=IP:PORT", or "local=IP:PORT closed" when the
server closes the connection without an answer, or "... timeout".

hold: connects, sends a header that is cut short (--header partial) and
waits for the server to close; prints "closed_after=SECONDS" or "open" when
--max seconds pass first.

many: opens connections from the addresses of --groups ("IP:N,..."), a
Binding on each, all kept open until the end; prints "answered=A closed=C"
for each group.
"""
import argparse
import os
import socket
import ssl
import struct
import sys
import time

SIG = b"\r\n\r\n\x00\r\nQUIT\n"
MAGIC = 0x2112A442


def proxy_header(kind, src):
    if kind == "none":
        return b""
    if kind == "local":
        return SIG + bytes([0x20, 0x00]) + struct.pack(">H", 0)
    ip, port = src.rsplit(":", 1)
    body = socket.inet_aton(ip) + socket.inet_aton("127.0.0.1") + struct.pack(">HH", int(port), 443)
    whole = SIG + bytes([0x21, 0x11]) + struct.pack(">H", len(body)) + body
    if kind == "proxy4":
        return whole
    if kind == "partial":
        return whole[:20]
    if kind == "oversize":
        return SIG + bytes([0x21, 0x11]) + struct.pack(">H", 0xFFFF)
    raise SystemExit("unknown header " + kind)


def connect(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(args.timeout)
    if args.bind:
        s.bind((args.bind, 0))
    host, port = args.to.rsplit(":", 1)
    s.connect((host, int(port)))
    return s


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def binding(s):
    """A Binding over s: the XOR-MAPPED-ADDRESS as "IP:PORT", None when closed."""
    tid = os.urandom(12)
    s.sendall(struct.pack(">HHI", 0x0001, 0, MAGIC) + tid)
    head = recv_exact(s, 20)
    if head is None:
        return None
    mtype, mlen, magic = struct.unpack(">HHI", head[:8])
    body = recv_exact(s, mlen)
    if body is None or mtype != 0x0101 or magic != MAGIC or head[8:] != tid:
        return None
    off = 0
    while off + 4 <= len(body):
        atype, alen = struct.unpack(">HH", body[off:off + 4])
        val = body[off + 4:off + 4 + alen]
        if atype == 0x0020 and val[1] == 0x01:
            port = struct.unpack(">H", val[2:4])[0] ^ (MAGIC >> 16)
            ip = struct.unpack(">I", val[4:8])[0] ^ MAGIC
            return "%s:%d" % (socket.inet_ntoa(struct.pack(">I", ip)), port)
        off += 4 + ((alen + 3) & ~3)
    return "none"


def wrap(s, args):
    if not args.tls:
        return s
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx.wrap_socket(s)


def cmd_binding(args):
    s = connect(args)
    local = "%s:%d" % s.getsockname()
    try:
        s.sendall(proxy_header(args.header, args.src or local))
        s = wrap(s, args)
        mapped = binding(s)
        print("local=%s %s" % (local, "mapped=" + mapped if mapped else "closed"))
    except (ConnectionError, ssl.SSLError, OSError) as e:
        if isinstance(e, socket.timeout):
            print("local=%s timeout" % local)
        else:
            print("local=%s closed" % local)


def cmd_hold(args):
    s = connect(args)
    s.sendall(proxy_header(args.header, args.src or "192.0.2.1:1"))
    start = time.monotonic()
    s.settimeout(args.max)
    try:
        data = s.recv(1)
        print("closed_after=%.2f" % (time.monotonic() - start) if not data else "data")
    except ConnectionError:
        print("closed_after=%.2f" % (time.monotonic() - start))
    except socket.timeout:
        print("open")


def cmd_many(args):
    """--groups "IP:N,IP:N...": N connections from IP each, group after group,
    all kept open to the end; prints "answered=A closed=C" per group."""
    socks, out = [], []
    for group in args.groups.split(","):
        args.bind, n = group.rsplit(":", 1)
        answered = closed = 0
        for _ in range(int(n)):
            try:
                s = connect(args)
                socks.append(s)
                if binding(s):
                    answered += 1
                else:
                    closed += 1
            except (ConnectionError, OSError):
                closed += 1
        out.append("answered=%d closed=%d" % (answered, closed))
    print(" ".join(out))
    for s in socks:
        s.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cmd", choices=["binding", "hold", "many"])
    p.add_argument("--to", required=True)
    p.add_argument("--bind")
    p.add_argument("--header", default="none",
                   choices=["none", "proxy4", "local", "partial", "oversize"])
    p.add_argument("--src", help="the client a proxy4 header names (default: our address)")
    p.add_argument("--tls", action="store_true")
    p.add_argument("--timeout", type=float, default=5)
    p.add_argument("--max", type=float, default=10)
    p.add_argument("--groups", default="")
    args = p.parse_args()
    {"binding": cmd_binding, "hold": cmd_hold, "many": cmd_many}[args.cmd](args)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
