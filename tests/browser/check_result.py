#!/usr/bin/python3
"""Judges one result of driver.py (relay_test.html).

  check_result.py RESULT.json TRANSPORT [MIN_FRAMES]

TRANSPORT is udp, tcp or tls: the protocol the browser must have used to
reach the TURN server (the local relay candidate's relayProtocol). Prints
one 'ok: ...' or 'FAIL: ...' line per check; exit 0 when all pass.
"""

import json
import sys


def main():
    path, transport = sys.argv[1], sys.argv[2]
    min_frames = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    # optional MIN-MAX: the relayed addresses must come from these ports
    # (which server of several gave them)
    ports = tuple(int(x) for x in sys.argv[4].split("-")) if len(sys.argv) > 4 else None
    failures = 0

    def check(cond, what):
        nonlocal failures
        print(("ok: " if cond else "FAIL: ") + what)
        if not cond:
            failures += 1

    try:
        with open(path) as f:
            text = f.read().strip()
        r = json.loads(text.splitlines()[-1]) if text else None
    except (OSError, ValueError) as e:
        print("FAIL: no result from the browser (%s)" % e)
        return 1
    if r is None:
        print("FAIL: no result from the browser (driver printed nothing)")
        return 1

    if r.get("error"):
        print("page error: %s" % r["error"])
    for side in ("pc1", "pc2"):
        info = r.get(side) or {}
        pair = info.get("selectedPair") or {}
        local, remote = pair.get("local") or {}, pair.get("remote") or {}
        desc = "%s selected pair: local %s/%s %s:%s, remote %s %s:%s (ice %s)" % (
            side, local.get("candidateType"), local.get("relayProtocol"),
            local.get("address"), local.get("port"), remote.get("candidateType"),
            remote.get("address"), remote.get("port"), info.get("iceConnectionState"))
        check(local.get("candidateType") == "relay" and remote.get("candidateType") == "relay",
              desc)
        check(local.get("relayProtocol") == transport,
              "%s reached the TURN server over %s (wanted %s)" % (
                  side, local.get("relayProtocol"), transport))
        if ports:
            port = local.get("port") or 0
            check(ports[0] <= port <= ports[1],
                  "%s relayed port %s is in %d-%d" % (side, port, ports[0], ports[1]))
    dc = r.get("datachannel") or {}
    check(dc.get("received12", 0) >= dc.get("sent12", 1) > 0,
          "data channel pc1->pc2: %s/%s messages" % (dc.get("received12"), dc.get("sent12")))
    check(dc.get("received21", 0) >= dc.get("sent21", 1) > 0,
          "data channel pc2->pc1: %s/%s messages" % (dc.get("received21"), dc.get("sent21")))
    v = r.get("video") or {}
    check(v.get("framesDecoded", 0) > min_frames,
          "video pc1->pc2: framesDecoded %s (> %d), %sx%s, %s packets" % (
              v.get("framesDecoded"), min_frames, v.get("frameWidth"), v.get("frameHeight"),
              v.get("packetsReceived")))
    check(bool(r.get("ok")), "page verdict ok (in %s ms)" % r.get("elapsedMs"))
    if failures:
        cands = r.get("candidates") or {}
        for side in ("pc1", "pc2"):
            print("%s gathered %d candidate(s): %s" % (side, len(cands.get(side) or []),
                                                       cands.get(side)))
        for e in r.get("candidateErrors") or []:
            print("icecandidateerror %s" % e)
        print("page log:")
        for line in r.get("log") or []:
            print("    " + line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
