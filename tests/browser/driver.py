#!/usr/bin/python3
"""Runs relay_test.html in headless Chromium through chromedriver and prints
the page's result as one JSON line on stdout.

Only the Python standard library is used: chromedriver speaks W3C WebDriver,
which is JSON over HTTP on loopback. Meant to be run inside the test's network
namespace (see tests/integration/test_chromium.sh, docs/testing-browsers.md):

  driver.py --url turn:10.201.0.1:3478?transport=udp --user u --password p

Exit status: 0 when the page said ok, 1 when it did not, 2 on a driver
error (no browser, WebDriver failure, timeout). The JSON is printed in every
case where there is one.
"""

import argparse
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
PAGE = HERE / "relay_test.html"

# Flags that make Chromium usable here; docs/testing-browsers.md says why.
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",  # we run as root (CI too); the sandbox refuses root
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    # Keep rendering and timers running at full speed in a headless, hidden page.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    # getUserMedia from a file:// page.
    "--allow-file-access-from-files",
]


def log(msg):
    print("[driver] " + msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebDriver:
    def __init__(self, base):
        self.base = base
        self.session = None

    def call(self, method, path, body=None, timeout=30):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.loads(r.read() or b"{}").get("value")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                v = json.loads(raw).get("value", {})
                msg = "%s: %s" % (v.get("error"), (v.get("message") or "").splitlines()[0:3])
            except ValueError:
                msg = raw[:500]
            raise RuntimeError("WebDriver %s %s -> HTTP %d %s" % (method, path, e.code, msg))

    def s(self, method, path, body=None, timeout=30):
        return self.call(method, "/session/%s%s" % (self.session, path), body, timeout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", action="append", required=True,
                    help="TURN URL for iceServers; repeatable")
    ap.add_argument("--user", default="u")
    ap.add_argument("--password", default="p")
    ap.add_argument("--messages", type=int, default=10)
    ap.add_argument("--min-frames", type=int, default=10)
    ap.add_argument("--timeout", type=float, default=40, help="page timeout, seconds")
    ap.add_argument("--chromium", default=os.environ.get("BR_CHROMIUM", "/usr/lib/chromium/chromium"))
    ap.add_argument("--chromedriver", default=os.environ.get("BR_CHROMEDRIVER", "/usr/bin/chromedriver"))
    ap.add_argument("--flag", action="append", default=[], help="extra Chromium flag; repeatable")
    ap.add_argument("--log-dir", help="chromedriver and Chromium logs go here")
    ap.add_argument("--screenshot", help="save a PNG of the page here at the end")
    args = ap.parse_args()

    for exe in (args.chromium, args.chromedriver):
        if not os.access(exe, os.X_OK):
            log("missing %s (apt-get install chromium chromium-driver)" % exe)
            return 2

    # The profile goes under --log-dir when there is one, so that whoever
    # owns that directory cleans up after a driver that was killed.
    if args.log_dir:
        pathlib.Path(args.log_dir).mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="br-chromium-", dir=args.log_dir)
    log_dir = pathlib.Path(args.log_dir or tmp)
    port = free_port()
    cd_log = log_dir / "chromedriver.log"
    cd = subprocess.Popen([args.chromedriver, "--port=%d" % port, "--log-path=%s" % cd_log],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, start_new_session=True)
    wd = WebDriver("http://127.0.0.1:%d" % port)
    rc = 2
    try:
        for _ in range(100):
            try:
                if wd.call("GET", "/status", timeout=2).get("ready"):
                    break
            except (OSError, RuntimeError):
                pass
            if cd.poll() is not None:
                raise RuntimeError("chromedriver exited with %s" % cd.returncode)
            time.sleep(0.1)
        else:
            raise RuntimeError("chromedriver not ready within 10 s")

        flags = CHROMIUM_FLAGS + [
            "--user-data-dir=%s" % (pathlib.Path(tmp) / "profile"),
            "--enable-logging", "--v=0",
        ] + args.flag
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": args.chromium,
                "args": flags,
                "excludeSwitches": ["enable-automation"],
            },
            "timeouts": {"script": int((args.timeout + 15) * 1000), "pageLoad": 20000},
        }}}
        t0 = time.monotonic()
        v = wd.call("POST", "/session", caps, timeout=40)
        wd.session = v["sessionId"]
        log("Chromium %s started in %.1f s" % (v["capabilities"].get("browserVersion"),
                                               time.monotonic() - t0))
        wd.s("POST", "/url", {"url": PAGE.as_uri()})
        config = {
            "iceServers": [{"urls": args.url, "username": args.user, "credential": args.password}],
            "messages": args.messages,
            "minFrames": args.min_frames,
            "timeoutMs": int(args.timeout * 1000),
        }
        result = wd.s("POST", "/execute/async", {
            "script": "runRelayTest(arguments[0]).then(arguments[1],"
                      " (e) => arguments[1]({ok: false, error: String(e)}));",
            "args": [config],
        }, timeout=args.timeout + 20)
        if args.screenshot:
            try:
                import base64
                png = wd.s("GET", "/screenshot", timeout=10)
                pathlib.Path(args.screenshot).write_bytes(base64.b64decode(png))
            except (RuntimeError, OSError) as e:
                log("screenshot: %s" % e)
        result["browser"] = v["capabilities"].get("browserVersion")
        print(json.dumps(result), flush=True)
        rc = 0 if result.get("ok") else 1
    except (RuntimeError, OSError, KeyError, ValueError) as e:
        log("error: %s" % e)
        try:
            log("chromedriver log tail:\n" + "".join(cd_log.read_text(errors="replace").splitlines(True)[-30:]))
        except OSError:
            pass
        rc = 2
    finally:
        if wd.session:
            try:
                wd.s("DELETE", "", timeout=10)
            except (RuntimeError, OSError):
                pass
        cd.terminate()
        try:
            cd.wait(5)
        except subprocess.TimeoutExpired:
            cd.kill()
            cd.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
