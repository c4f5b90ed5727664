#!/usr/bin/python3
"""Two libnice ICE agents in one process, relay candidates only, through a
TURN server (tests/integration/test_libnice.sh drives it).

libnice (Debian libnice10) is driven through GObject introspection
(gir1.2-nice-0.1, python3-gi). Both agents have force-relay set, so they
offer only relayed candidates; their one local address is 127.0.0.1
(add_local_address: libnice leaves loopback out of its own interface list,
and a CI container may have nothing else). They trade credentials and
candidates in memory, run ICE, and send COUNT datagrams each way. Passes
(exit 0) when both components reach READY, the selected pair is relayed ->
relayed on both sides (each remote candidate being the other agent's relay
address), the agents reach the server over the transport under test, and
every datagram arrived intact exactly once. Otherwise prints why and exits
1. Prints one JSON line "result=..." with what was seen.

The data path uses libnice's C API through ctypes (nice_agent_attach_recv,
nice_agent_send): the introspected recv_nonblocking() crashes (its buffer
length is not exposed), send() takes a text string, and without a receive
callback libnice never reads the sockets outside recv(), so not even the
TURN responses would be seen.
"""

import argparse
import ctypes
import hashlib
import json
import os
import subprocess
import sys
import time

try:
    import gi

    gi.require_version("Nice", "0.1")
    from gi.repository import GLib, Nice
except (ImportError, ValueError) as e:  # pragma: no cover
    print(f"ice_libnice: cannot load libnice through GObject introspection ({e}): "
          "apt-get install gir1.2-nice-0.1 python3-gi, run with /usr/bin/python3", file=sys.stderr)
    sys.exit(2)

COMPONENT = 1

# --- the C calls introspection does not serve well --------------------------
_nice = ctypes.CDLL("libnice.so.10")
_glib = ctypes.CDLL("libglib-2.0.so.0")
_glib.g_main_context_default.restype = ctypes.c_void_p
ctypes.pythonapi.PyCapsule_GetPointer.restype = ctypes.c_void_p
ctypes.pythonapi.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
RECV_FUNC = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint, ctypes.c_uint,
                             ctypes.POINTER(ctypes.c_char), ctypes.c_void_p)
_nice.nice_agent_attach_recv.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint,
                                         ctypes.c_void_p, RECV_FUNC, ctypes.c_void_p]
_nice.nice_agent_attach_recv.restype = ctypes.c_int
_nice.nice_agent_send.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint, ctypes.c_uint,
                                  ctypes.c_char_p]
_nice.nice_agent_send.restype = ctypes.c_int


def gptr(obj):
    """The C pointer of a PyGObject wrapper."""
    return ctypes.pythonapi.PyCapsule_GetPointer(obj.__gpointer__, None)


def payload(direction: str, i: int, size: int) -> bytes:
    """Deterministic, distinct bytes per (direction, index), starting with a
    byte no STUN message or ChannelData header starts with."""
    head = f"\xff{direction}:{i:06d}:".encode("latin-1")
    body = b""
    seed = f"{direction}{i}".encode()
    while len(head) + len(body) < size:
        seed = hashlib.sha256(seed).digest()
        body += seed
    # lengths vary (size-6 .. size) so that every length mod 4 occurs: over
    # TCP, ChannelData is padded to a multiple of 4 bytes
    return (head + body)[:max(len(head), size - i % 7)]


def ctype(c):
    return {Nice.CandidateType.HOST: "host", Nice.CandidateType.SERVER_REFLEXIVE: "srflx",
            Nice.CandidateType.PEER_REFLEXIVE: "prflx",
            Nice.CandidateType.RELAYED: "relay"}.get(c.type, str(c.type))


def addr(a):
    return f"{a.dup_string()}:{a.get_port()}"


def describe(c):
    return {"type": ctype(c), "addr": addr(c.addr), "base": addr(c.base_addr)}


class Agent:
    def __init__(self, name, controlling, args, run):
        self.name = name
        self.run = run
        self.agent = Nice.Agent.new(GLib.MainContext.default(), Nice.Compatibility.RFC5245)
        props = {p.name for p in self.agent.list_properties()}
        if "force-relay" not in props:
            raise RuntimeError("this libnice has no force-relay property")
        self.agent.set_property("controlling-mode", controlling)
        self.agent.set_property("force-relay", True)
        self.agent.set_property("ice-tcp", False)  # no ICE-TCP candidates
        if "upnp" in props:
            self.agent.set_property("upnp", False)
        a = Nice.Address.new()
        a.set_from_string(args.local_address)
        if not self.agent.add_local_address(a):
            raise RuntimeError(f"add_local_address({args.local_address}) failed")
        self.stream = self.agent.add_stream(1)
        host, _, port = args.server.rpartition(":")
        relay_type = {"udp": Nice.RelayType.UDP, "tcp": Nice.RelayType.TCP}[args.transport]
        if not self.agent.set_relay_info(self.stream, COMPONENT, host, int(port), args.user,
                                         args.password, relay_type):
            raise RuntimeError("set_relay_info failed")
        self.gathered = False
        self.state = "disconnected"
        self.pair = None
        self.received = {}
        self.unknown = 0
        self.expected = set()
        # keep the ctypes callback alive as long as the agent
        self._recv_cb = RECV_FUNC(self._on_recv)
        if not _nice.nice_agent_attach_recv(gptr(self.agent), self.stream, COMPONENT,
                                            _glib.g_main_context_default(), self._recv_cb, None):
            raise RuntimeError("nice_agent_attach_recv failed")
        self.agent.connect("candidate-gathering-done", self._on_gathered)
        self.agent.connect("component-state-changed", self._on_state)
        self.agent.connect("new-selected-pair-full", self._on_pair)

    def _on_recv(self, _agent, _stream, _component, length, buf, _data):
        data = ctypes.string_at(buf, length)
        if data in self.expected:
            self.received[data] = self.received.get(data, 0) + 1
        else:
            self.unknown += 1
        self.run.check_done()

    def _on_gathered(self, _agent, _stream):
        self.gathered = True
        self.run.on_gathered()

    def _on_state(self, _agent, _stream, _component, state):
        self.state = Nice.ComponentState(state).value_nick
        self.run.events.append(f"{self.name}:{self.state}")
        if state == Nice.ComponentState.FAILED:
            self.run.finish(f"agent {self.name}: ICE failed (component state failed)")
        else:
            self.run.on_state()

    def _on_pair(self, _agent, _stream, _component, local, remote):
        self.pair = (local, remote)
        self.run.on_state()

    def local_candidates(self):
        return self.agent.get_local_candidates(self.stream, COMPONENT)

    def send(self, data):
        return _nice.nice_agent_send(gptr(self.agent), self.stream, COMPONENT, len(data), data)


class Run:
    def __init__(self, args):
        self.args = args
        self.loop = GLib.MainLoop()
        self.result = {"transport": args.transport, "server": args.server}
        self.events = []
        self.error = None
        self.done = False
        self.data_started = False
        self.t_start = time.monotonic()
        self.a = Agent("a", True, args, self)
        self.b = Agent("b", False, args, self)
        self.a.expected = {payload("ba", i, args.size) for i in range(args.count)}
        self.b.expected = {payload("ab", i, args.size) for i in range(args.count)}

    def finish(self, error=None):
        if self.done:
            return
        self.done = True
        self.error = error
        self.loop.quit()

    def on_gathered(self):
        if not (self.a.gathered and self.b.gathered) or "ice_start" in self.result:
            return
        self.result["gather_seconds"] = round(time.monotonic() - self.t_start, 3)
        for ag in (self.a, self.b):
            cands = ag.local_candidates()
            self.result[f"{ag.name}_local"] = [describe(c) for c in cands]
            if not cands:
                return self.finish(f"agent {ag.name} gathered no candidate (no TURN allocation)")
            if any(ctype(c) != "relay" for c in cands):
                return self.finish(f"agent {ag.name} gathered a non-relay candidate despite force-relay")
        self.result["ice_start"] = time.monotonic()
        # Signaling, in memory: credentials, then the (relay-only) candidates.
        for src, dst in ((self.a, self.b), (self.b, self.a)):
            ok, ufrag, pwd = src.agent.get_local_credentials(src.stream)
            if not ok or not dst.agent.set_remote_credentials(dst.stream, ufrag, pwd):
                return self.finish("exchanging ICE credentials failed")
            cands = [c for c in src.local_candidates() if ctype(c) == "relay"]
            if dst.agent.set_remote_candidates(dst.stream, COMPONENT, cands) != len(cands):
                return self.finish(f"agent {dst.name} did not take all remote candidates")

    def on_state(self):
        if self.data_started or self.done:
            return
        if not all(ag.state == "ready" and ag.pair for ag in (self.a, self.b)):
            return
        self.result["ice_seconds"] = round(time.monotonic() - self.result.pop("ice_start"), 3)
        for ag, other in ((self.a, self.b), (self.b, self.a)):
            local, remote = ag.pair
            self.result[f"{ag.name}_pair"] = {"local": describe(local), "remote": describe(remote)}
            if ctype(local) != "relay" or ctype(remote) != "relay":
                return self.finish(f"agent {ag.name}: selected pair is {ctype(local)} -> "
                                   f"{ctype(remote)}, not relay -> relay")
            theirs = {addr(c.addr) for c in other.local_candidates()}
            if addr(remote.addr) not in theirs:
                return self.finish(f"agent {ag.name}: selected remote {addr(remote.addr)} is not "
                                   f"one of agent {other.name}'s relay candidates {sorted(theirs)}")
        self.check_transport()
        if self.done:
            return
        self.data_started = True
        self.result["data_start"] = time.monotonic()
        self.next_index = 0
        GLib.timeout_add(2, self.send_some)

    def check_transport(self):
        """TURN over TCP: each agent holds an established TCP connection from
        this process to the server; over UDP, none."""
        port = self.args.server.rpartition(":")[2]
        try:
            out = subprocess.run(["ss", "-Htnp", "state", "established", f"( dport = :{port} )"],
                                 capture_output=True, text=True, timeout=5).stdout
        except (OSError, subprocess.SubprocessError) as e:
            return self.finish(f"cannot run ss to check the transport: {e}")
        mine = [ln for ln in out.splitlines() if f"pid={os.getpid()}," in ln]
        self.result["tcp_connections_to_server"] = len(mine)
        if self.args.transport == "tcp" and len(mine) < 2:
            self.finish(f"TURN over TCP asked for, but this process has {len(mine)} TCP "
                        "connection(s) to the server, not one per agent")
        elif self.args.transport == "udp" and mine:
            self.finish(f"TURN over UDP asked for, but this process has {len(mine)} TCP "
                        "connection(s) to the server")

    def send_some(self):
        if self.done:
            return False
        for _ in range(10):
            i = self.next_index
            if i >= self.args.count:
                return False
            for ag, d in ((self.a, "ab"), (self.b, "ba")):
                data = payload(d, i, self.args.size)
                n = ag.send(data)
                if n != len(data):
                    self.result.setdefault("send_errors", 0)
                    self.result["send_errors"] += 1
            self.next_index += 1
        return True

    def check_done(self):
        if len(self.a.received) == self.args.count and len(self.b.received) == self.args.count:
            # let duplicates, if any, arrive before the verdict
            GLib.timeout_add(100, lambda: self.finish() or False)

    def on_timeout(self):
        if not self.done:
            stage = "data transfer" if self.data_started else (
                "ICE" if "ice_start" in self.result else "gathering")
            self.finish(f"timed out after {self.args.timeout:g} s during {stage} "
                        f"(states: a={self.a.state} b={self.b.state})")
        return False

    def verdict(self):
        r = self.result
        r.pop("ice_start", None)
        if "data_start" in r:
            r["data_seconds"] = round(time.monotonic() - r.pop("data_start"), 3)
        for label, rx, other_sent in (("a->b", self.b, self.args.count), ("b->a", self.a, self.args.count)):
            r[label] = {"sent": other_sent if self.data_started else 0,
                        "received": len(rx.received),
                        "duplicates": sum(v - 1 for v in rx.received.values()),
                        "corrupt_or_unknown": rx.unknown}
        r["events"] = self.events
        if self.error:
            r["error"] = self.error
            return r
        if r.get("send_errors"):
            r["error"] = f"{r['send_errors']} nice_agent_send() calls failed"
            return r
        for label in ("a->b", "b->a"):
            x = r[label]
            if x["received"] != x["sent"] or x["duplicates"] or x["corrupt_or_unknown"]:
                r["error"] = (f"{label}: sent {x['sent']}, received {x['received']} distinct intact, "
                              f"{x['duplicates']} duplicates, {x['corrupt_or_unknown']} corrupt/unknown")
                return r
        r["ok"] = True
        return r

    def go(self):
        GLib.timeout_add(int(self.args.timeout * 1000), self.on_timeout)
        for ag in (self.a, self.b):
            if not ag.agent.gather_candidates(ag.stream):
                self.finish(f"agent {ag.name}: gather_candidates failed")
        if not self.done:
            self.loop.run()
        result = self.verdict()
        self.close()
        return result

    def close(self):
        """Releases the allocations (Refresh with lifetime 0) before exit,
        waiting at most 2 s."""
        pending = [self.a, self.b]
        loop = GLib.MainLoop()

        def closed(agent_obj, _res, ag):
            pending.remove(ag)
            if not pending:
                loop.quit()

        for ag in list(pending):
            ag.agent.close_async(closed, ag)
        GLib.timeout_add(2000, lambda: loop.quit() or False)
        loop.run()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--server", required=True, help="TURN server IPv4:PORT")
    p.add_argument("--transport", choices=("udp", "tcp"), default="udp")
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--count", type=int, default=100, help="datagrams each way")
    p.add_argument("--size", type=int, default=200, help="bytes per datagram (at most)")
    p.add_argument("--timeout", type=float, default=30, help="seconds for the whole run")
    p.add_argument("--local-address", default="127.0.0.1",
                   help="the agents' only local address (default 127.0.0.1)")
    args = p.parse_args()
    try:
        run = Run(args)
    except RuntimeError as e:
        print("result=" + json.dumps({"error": str(e)}))
        print(f"ice_libnice: FAIL {args.transport}: {e}")
        sys.exit(1)
    result = run.go()
    print("result=" + json.dumps(result, sort_keys=True))
    if not result.get("ok"):
        print(f"ice_libnice: FAIL {args.transport}: {result.get('error', 'unknown')}")
        sys.exit(1)
    print(f"ice_libnice: ok {args.transport}: ICE in {result['ice_seconds']} s, {args.count} "
          f"datagrams each way intact, relay -> relay on both sides")


if __name__ == "__main__":
    main()
