#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<name>/.

fuzz_stun_msg: the RFC 5769 test vectors and a ChannelData frame.
fuzz_server: inputs in fuzz_server.c's record format that reach the deep
states (live allocations, channels, reservations, SHA-256 and REST
credentials, peer data, expiry). Run it again after changing either
format; the files are committed.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# RFC 5769 section 2.1-2.4, byte for byte.
RFC5769 = {
    "rfc5769-2.1-request": """
        00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
        00 24 00 04 6e 00 01 ff 80 29 00 08 93 2f f9 b1 51 26 3b 36
        00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20 00 08 00 14
        9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
        80 28 00 04 e5 7a 3b cf""",
    "rfc5769-2.2-ipv4-response": """
        01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20 00 20 00 08
        00 01 a1 47 e1 12 a6 43 00 08 00 14 2b 91 f5 99 fd 9e 90 c3
        8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7 80 28 00 04 c0 7d 4c 96""",
    "rfc5769-2.3-ipv6-response": """
        01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20 00 20 00 14
        00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
        00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75
        bf e3 ed 41 80 28 00 04 c8 fb 0b 4c""",
    "rfc5769-2.4-long-term-request": """
        00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
        00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3
        82 b9 00 00 00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36
        4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41 00 14 00 0b
        65 78 61 6d 70 6c 65 2e 6f 72 67 00 00 08 00 14 f6 70 24 65
        6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66""",
}


def vector(name):
    return bytes.fromhex(RFC5769[name].replace("\n", " "))


# ---- fuzz_server records (see the comment at the top of fuzz_server.c) ----

RAW, SIGNED, ASSISTED, CHANNEL, SEND, PEER, TICK, CLOSED = range(8)
ALLOCATE, REFRESH, PERMIT, BIND = 0, 1, 2, 3
CRED_SHA256, CRED_REST = 1 << 3, 2 << 3
FINGERPRINT = 0x20
PEER_LOCAL, PEER_LOCAL2, PEER_PUBLIC6 = 0, 1, 9


def rec(kind, arg, body):
    return bytes([kind | arg << 3]) + struct.pack(">H", len(body)) + body


def attr(atype, value):
    return struct.pack(">HB", atype, len(value)) + value


def signed(method_opts, pick=0, attrs=b"", tuple_=0, assisted=True):
    return rec(ASSISTED if assisted else SIGNED, tuple_, bytes([method_opts, pick]) + attrs)


def server_seeds():
    payload = b"\x80\x01" + bytes(range(30))  # an RTP-looking packet
    return {
        # client 0 allocated with a channel: data both ways, then expiry
        "live-channel": bytes([0x01])
        + rec(CHANNEL, 0, b"\x00" + payload)
        + rec(PEER, 0, bytes([0, PEER_LOCAL]) + payload)
        + rec(PEER, 0, bytes([0, PEER_LOCAL2]) + payload)
        + rec(TICK, 8, b"")
        + rec(PEER, 0, bytes([0, PEER_LOCAL]) + payload),
        # UDP, TCP and an IPv6 relay: peer data to each, stream padding
        "live-three": bytes([0x03])
        + rec(CHANNEL, 2, b"\x00" + payload + b"x")
        + rec(PEER, 0, bytes([1, PEER_LOCAL]) + payload + b"x")
        + rec(PEER, 0, bytes([2, PEER_PUBLIC6]) + payload)
        + rec(CLOSED, 2, b""),
        # a cold start: allocate, permit, send, refresh to zero
        "cold-send-refresh": bytes([0x00])
        + signed(ALLOCATE)
        + signed(PERMIT, PEER_LOCAL)
        + rec(SEND, 0, bytes([PEER_LOCAL]) + payload)
        + rec(TICK, 5, b"")
        + signed(REFRESH, 0, attr(0x000D, b"\0\0\0\0")),
        # EVEN-PORT with R, then the reserved port claimed by token
        "reservation": bytes([0x00])
        + signed(ALLOCATE, 0, attr(0x0018, b"\x80"))
        + signed(ALLOCATE, 0, attr(0x0022, bytes([0]) + b"\x70" * 7), tuple_=1),
        # SHA-256 and REST credentials, with FINGERPRINT; a retransmission
        "credentials": bytes([0x04])
        + signed(ALLOCATE | CRED_SHA256 | FINGERPRINT)
        + signed(ALLOCATE | CRED_SHA256 | FINGERPRINT | 0x40)
        + signed(ALLOCATE | CRED_REST, 0, attr(0x0017, b"\x02\0\0\0"), tuple_=3)
        + signed(BIND | CRED_REST, 0x10 | PEER_PUBLIC6, tuple_=3),
        # a Binding request as the RFC 5769 sample, raw
        "raw-binding": bytes([0x00]) + rec(RAW, 1, vector("rfc5769-2.1-request")),
        # quota and tight limits with several peers
        "limits": bytes([0xA1])
        + signed(PERMIT, PEER_LOCAL2)
        + signed(PERMIT, 2)
        + signed(BIND, 0x20 | PEER_LOCAL2)
        + signed(ALLOCATE, 0, tuple_=1)
        + rec(TICK, 6, b""),
    }


def write(name, files):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for fname, data in files.items():
        with open(os.path.join(d, fname), "wb") as f:
            f.write(data)


def main():
    stun = {name: vector(name) for name in RFC5769}
    stun["channel-data"] = bytes.fromhex("40 00 00 05 68 65 6c 6c 6f 00 00 00".replace(" ", ""))
    write("fuzz_stun_msg", stun)
    write("fuzz_server", server_seeds())


if __name__ == "__main__":
    main()
