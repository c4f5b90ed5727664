#!/usr/bin/python3
"""Two aioice ICE agents in one process, relay candidates only, through a
TURN server (tests/integration/test_aioice.sh drives it).

Both agents gather only a relayed candidate from the TURN server (no host
addresses: use_ipv4 = use_ipv6 = False, and transport_policy RELAY), trade
credentials and candidates in memory, run ICE, then send COUNT datagrams
each way with send()/recv(). Passes (exit 0) when ICE completes, the
nominated pair is relay -> relay on both sides, and every datagram arrived
intact (compared byte for byte, each exactly once). Otherwise prints why and
exits 1. Prints one JSON line "result=..." with what was seen.

Needs Debian's python3-aioice (run with /usr/bin/python3).
"""

import argparse
import asyncio
import hashlib
import json
import sys
import time

try:
    import aioice
    from aioice.ice import TransportPolicy
except ImportError as e:  # pragma: no cover
    print(f"ice_aioice: cannot import aioice ({e}): apt-get install python3-aioice, "
          "run with /usr/bin/python3", file=sys.stderr)
    sys.exit(2)


def payload(direction: str, i: int, size: int) -> bytes:
    """Deterministic, distinct bytes per (direction, index): the receiver
    recomputes them to compare byte for byte. Starts with a byte that is not
    a STUN or ChannelData first byte, so nothing demultiplexes it as such."""
    head = f"\xff{direction}:{i:06d}:".encode("latin-1")
    body = b""
    seed = f"{direction}{i}".encode()
    while len(head) + len(body) < size:
        seed = hashlib.sha256(seed).digest()
        body += seed
    # lengths vary (size-6 .. size) so that every length mod 4 occurs: over
    # TCP, ChannelData is padded to a multiple of 4 bytes
    return (head + body)[:max(len(head), size - i % 7)]


def describe(c):
    return {"type": c.type, "transport": c.transport, "addr": f"{c.host}:{c.port}",
            "related": f"{c.related_address}:{c.related_port}"}


def nominated(conn):
    # aioice keeps the selected pair per component in a private dict; there
    # is no public accessor in 0.8.
    pairs = getattr(conn, "_nominated", {})
    return pairs.get(1)


async def transfer(sender, receiver, direction, count, size, deadline):
    """Sends count datagrams sender -> receiver (paced a little so a UDP
    socket buffer is never the reason for a loss) and collects them."""
    expected = {payload(direction, i, size) for i in range(count)}
    got = {}
    bad = 0

    async def rx():
        nonlocal bad
        while len(got) < count:
            data = await receiver.recv()
            if data in expected:
                got[data] = got.get(data, 0) + 1
            else:
                bad += 1

    async def tx():
        for i in range(count):
            await sender.send(payload(direction, i, size))
            if i % 10 == 9:
                await asyncio.sleep(0.002)

    rx_task = asyncio.ensure_future(rx())
    await tx()
    try:
        await asyncio.wait_for(rx_task, max(0.5, deadline - time.monotonic()))
    except asyncio.TimeoutError:
        pass
    return {"sent": count, "received": len(got), "duplicates": sum(v - 1 for v in got.values()),
            "corrupt_or_unknown": bad}


async def run(args):
    host, _, port = args.server.rpartition(":")
    server = (host, int(port))
    deadline = time.monotonic() + args.timeout
    result = {"transport": args.transport, "server": args.server}

    def agent(controlling):
        return aioice.Connection(
            ice_controlling=controlling,
            turn_server=server,
            turn_username=args.user,
            turn_password=args.password,
            turn_transport=args.transport,
            # No host candidates at all: no host address is gathered, so the
            # only local candidate (and socket) is the TURN allocation.
            use_ipv4=False,
            use_ipv6=False,
            transport_policy=TransportPolicy.RELAY,
        )

    a, b = agent(True), agent(False)
    try:
        try:
            await asyncio.wait_for(asyncio.gather(a.gather_candidates(), b.gather_candidates()),
                                   max(1, deadline - time.monotonic()))
        except Exception as e:  # noqa: BLE001 - any failure is the verdict
            result["error"] = f"gathering failed: {type(e).__name__}: {e}"
            return result
        result["a_local"] = [describe(c) for c in a.local_candidates]
        result["b_local"] = [describe(c) for c in b.local_candidates]
        for name, conn in (("a", a), ("b", b)):
            cands = conn.local_candidates
            if not any(c.type == "relay" for c in cands):
                result["error"] = f"agent {name} gathered no relay candidate"
                return result
            if any(c.type != "relay" for c in cands):
                result["error"] = f"agent {name} gathered a non-relay candidate"
                return result

        # Signaling, in memory: credentials and relay candidates only.
        for local, remote in ((a, b), (b, a)):
            remote.remote_username = local.local_username
            remote.remote_password = local.local_password
            for c in local.local_candidates:
                if c.type == "relay":
                    await remote.add_remote_candidate(c)
            await remote.add_remote_candidate(None)

        t0 = time.monotonic()
        try:
            await asyncio.wait_for(asyncio.gather(a.connect(), b.connect()),
                                   max(1, deadline - time.monotonic()))
        except Exception as e:  # noqa: BLE001
            why = str(e) or f"no candidate pair succeeded within {args.timeout:g} s"
            result["error"] = f"ICE did not connect: {type(e).__name__}: {why}"
            return result
        result["ice_seconds"] = round(time.monotonic() - t0, 3)

        for name, conn in (("a", a), ("b", b)):
            pair = nominated(conn)
            if pair is None:
                result["error"] = f"agent {name} has no nominated pair"
                return result
            result[f"{name}_pair"] = {"local": describe(pair.local_candidate),
                                      "remote": describe(pair.remote_candidate)}
            # The local relay candidate's socket is a TurnTransport; the
            # client protocol inside says how it reaches the server.
            inner = getattr(pair.protocol.transport, "_TurnTransport__inner_protocol", None)
            via = repr(inner) if inner is not None else "?"
            result[f"{name}_pair"]["turn_via"] = via
            if via != f"turn/{args.transport}":
                result["error"] = (f"agent {name}: nominated pair reaches the server as {via}, "
                                   f"not turn/{args.transport}")
                return result
            if pair.local_candidate.type != "relay" or pair.remote_candidate.type != "relay":
                result["error"] = (f"agent {name}: nominated pair is "
                                   f"{pair.local_candidate.type} -> {pair.remote_candidate.type}, "
                                   "not relay -> relay")
                return result

        t0 = time.monotonic()
        ab, ba = await asyncio.gather(
            transfer(a, b, "ab", args.count, args.size, deadline),
            transfer(b, a, "ba", args.count, args.size, deadline))
        result["data_seconds"] = round(time.monotonic() - t0, 3)
        result["a_to_b"], result["b_to_a"] = ab, ba
        for label, r in (("a->b", ab), ("b->a", ba)):
            if r["received"] != r["sent"] or r["duplicates"] or r["corrupt_or_unknown"]:
                result["error"] = (f"{label}: sent {r['sent']}, received {r['received']} distinct "
                                   f"intact, {r['duplicates']} duplicates, "
                                   f"{r['corrupt_or_unknown']} corrupt/unknown")
                return result
        result["ok"] = True
        return result
    finally:
        for conn in (a, b):
            try:
                await asyncio.wait_for(conn.close(), 3)
            except Exception:  # noqa: BLE001 - closing is best effort
                pass


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--server", required=True, help="TURN server HOST:PORT")
    p.add_argument("--transport", choices=("udp", "tcp"), default="udp")
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--count", type=int, default=100, help="datagrams each way")
    p.add_argument("--size", type=int, default=200, help="bytes per datagram (at most)")
    p.add_argument("--timeout", type=float, default=30, help="seconds for the whole run")
    p.add_argument("--verbose", action="store_true", help="aioice debug logging")
    args = p.parse_args()
    if args.verbose:
        import logging
        logging.basicConfig(level=logging.DEBUG)
    result = asyncio.run(run(args))
    print("result=" + json.dumps(result, sort_keys=True))
    if not result.get("ok"):
        print(f"ice_aioice: FAIL ({args.transport}): {result.get('error', 'unknown')}")
        sys.exit(1)
    print(f"ice_aioice: ok {args.transport}: ICE in {result['ice_seconds']} s, "
          f"{args.count} datagrams each way intact, relay -> relay on both sides")


if __name__ == "__main__":
    main()
