#!/usr/bin/python3
"""The layer rules of docs/architecture.md, checked: fails (exit 1, one line
per violation) when

* turn/ includes anything from relay/, admin/, libevent or libmicrohttpd,
  or a system header outside its list (no clock, no I/O calls: time is
  passed in, sockets are relay/'s; socket *address types* are allowed);
* admin/ includes more of turn/ and relay/ than the read-only counter
  headers (turn/stats.h, relay/relay_stats.h) and turn/addr.h (the
  listen address of its config), or libevent;
* relay/ includes an admin/ header other than admin/admin.h, or any
  directory includes another's private header (*_internal.h, *_priv.h);
* CMakeLists.txt's link lines do not match the includes: a library that
  includes a header of another layer with code behind it links that
  layer's library, and turn links neither libevent, libmicrohttpd, libssl
  nor the layers above it;
* with --build DIR: the built libraries reference what the includes
  forbid (libturn.a calls a socket, clock, libevent or TLS function;
  libadmin.a calls into relaycore, or into turn beyond stats and addr).

ctest runs it as unit.check_layers. Usage:
  tests/check_layers.py [--src DIR] [--build DIR]
"""
import argparse
import glob
import os
import re
import subprocess
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')

# C17's headers that are pure computation; time.h, signal.h, setjmp.h,
# threads.h and locale.h are left out: turn/ gets the time from its caller
# and owns no threads or process state.
C_HEADERS = {
    "assert.h", "complex.h", "ctype.h", "errno.h", "fenv.h", "float.h", "inttypes.h",
    "iso646.h", "limits.h", "math.h", "stdalign.h", "stdarg.h", "stdatomic.h", "stdbool.h",
    "stddef.h", "stdint.h", "stdio.h", "stdlib.h", "stdnoreturn.h", "string.h", "tgmath.h",
    "uchar.h", "wchar.h", "wctype.h",
}
# POSIX headers turn/ may use: byte order and address types (union
# turn_addr holds sockaddr_in/in6), and a mutex for the shared quota table.
TURN_POSIX = {
    "arpa/inet.h", "netinet/in.h", "sys/socket.h", "sys/types.h", "strings.h", "endian.h",
    "pthread.h",
}
# libcrypto is turn/'s one library; libssl is relay/'s (TLS listeners).
LIBSSL_HEADERS = {"openssl/ssl.h", "openssl/tls1.h", "openssl/ssl3.h", "openssl/dtls1.h"}

# What admin/ may see of the layers it reports on: counters, and the address
# type of its own config. Nothing with allocations, sessions or workers.
ADMIN_MAY_INCLUDE = {"turn/stats.h", "turn/addr.h", "relay/relay_stats.h"}
RELAY_MAY_INCLUDE_FROM_ADMIN = {"admin/admin.h"}

LAYERS = ("turn", "relay", "admin")
LIBRARY = {"turn": "turn", "relay": "relaycore", "admin": "admin"}

# Functions libturn.a must not call: sockets, files, clocks, event loops, TLS.
TURN_FORBIDDEN_CALLS = {
    "socket", "bind", "connect", "listen", "accept", "accept4", "send", "sendto", "sendmsg",
    "sendmmsg", "recv", "recvfrom", "recvmsg", "recvmmsg", "read", "write", "readv", "writev",
    "open", "open64", "openat", "close", "fopen", "fopen64", "poll", "ppoll", "select",
    "epoll_create1", "epoll_ctl", "epoll_wait", "getaddrinfo", "clock_gettime", "time",
    "gettimeofday", "sleep", "usleep", "nanosleep",
}
TURN_FORBIDDEN_PREFIXES = ("event_", "evbuffer_", "bufferevent_", "evconnlistener_", "evutil_",
                           "MHD_", "SSL_", "TLS_")
# The turn/ objects admin/ may call into.
ADMIN_TURN_OBJECTS = {"stats.c.o", "addr.c.o"}


def rel(src, path):
    return os.path.relpath(path, src)


def includes(path):
    """(line number, '<' or '"', name) of each #include in path."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if m:
                yield n, m.group(1), m.group(2)


def resolve(src, layer, name):
    """The repository path a quoted include names: "x.h" is the including
    directory's own, "dir/x.h" is from the top (the include path)."""
    if "/" not in name:
        return f"{layer}/{name}"
    return os.path.normpath(name)


def check_sources(src):
    errors = []
    uses = {layer: set() for layer in LAYERS}  # repository paths of headers included
    for layer in LAYERS:
        for path in sorted(glob.glob(os.path.join(src, layer, "*.[ch]"))):
            where = rel(src, path)
            for n, kind, name in includes(path):
                close = ">" if kind == "<" else '"'
                at = f"{where}:{n}: #include {kind}{name}{close}"
                if kind == "<":
                    errors += check_system(layer, name, at)
                    continue
                target = resolve(src, layer, name)
                found = check_local(src, layer, target, at)
                if not found:
                    uses[layer].add(target)  # a refused include needs no link line
                errors += found
    return errors, uses


def check_system(layer, name, at):
    if name.startswith("event2/") or name in ("event.h", "evhttp.h", "evdns.h"):
        if layer != "relay":
            return [f"{at}: libevent belongs to relay/ ({layer}/ does not link it)"]
        return []
    if layer == "turn":
        if name == "microhttpd.h":
            return [f"{at}: libmicrohttpd belongs to admin/"]
        if name in LIBSSL_HEADERS:
            return [f"{at}: turn/ links libcrypto only (TLS is relay/'s)"]
        if name in C_HEADERS or name in TURN_POSIX or name.startswith("openssl/"):
            return []
        return [f"{at}: turn/ is sans-I/O: system header outside its list in tests/check_layers.py"
                " (no clock, sockets, files or threads of its own)"]
    if layer == "admin" and name in LIBSSL_HEADERS:
        return [f"{at}: admin/ does not link libssl"]
    return []


def check_local(src, layer, target, at):
    top = target.split("/", 1)[0]
    base = os.path.basename(target)
    if not os.path.exists(os.path.join(src, target)):
        return [f"{at}: no such file {target}"]
    if top != layer and (base.endswith("_internal.h") or base.endswith("_priv.h")):
        return [f"{at}: {target} is private to {top}/"]
    if layer == "turn" and top != "turn":
        return [f"{at}: turn/ includes nothing from {top}/ (layers point one way: relay/ -> turn/)"]
    if layer == "admin" and top != "admin" and target not in ADMIN_MAY_INCLUDE:
        return [f"{at}: admin/ sees counters only; it may include "
                f"{', '.join(sorted(ADMIN_MAY_INCLUDE))} of the other layers"]
    if layer == "relay" and top == "admin" and target not in RELAY_MAY_INCLUDE_FROM_ADMIN:
        return [f"{at}: relay/ talks to admin/ through admin/admin.h only"]
    return []


def link_lines(src):
    """Library name -> the set of items its target_link_libraries() name."""
    with open(os.path.join(src, "CMakeLists.txt"), encoding="utf-8") as f:
        text = re.sub(r"#[^\n]*", "", f.read())
    links = {}
    for m in re.finditer(r"target_link_libraries\(\s*(\w+)([^)]*)\)", text):
        items = set(m.group(2).split()) - {"PUBLIC", "PRIVATE", "INTERFACE"}
        links.setdefault(m.group(1), set()).update(items)
    return links


def check_links(src, uses):
    errors = []
    links = link_lines(src)
    for layer in LAYERS:
        lib = LIBRARY[layer]
        if lib not in links:
            errors.append(f"CMakeLists.txt: no target_link_libraries({lib} ...)")
            continue
        for header in sorted(uses[layer]):
            other = header.split("/", 1)[0]
            code = os.path.splitext(os.path.join(src, header))[0] + ".c"
            # a header-only one (relay/relay_stats.h) needs no library
            if other in LAYERS and other != layer and os.path.exists(code):
                if LIBRARY[other] not in links[lib]:
                    errors.append(f"CMakeLists.txt: {layer}/ includes {header} (code in "
                                  f"{rel(src, code)}), so {lib} must link {LIBRARY[other]}")
    banned = {
        "turn": {"relaycore", "admin", "PkgConfig::LIBEVENT", "PkgConfig::MHD", "OpenSSL::SSL"},
        "admin": {"relaycore", "PkgConfig::LIBEVENT"},
    }
    for lib, names in banned.items():
        for name in sorted(links.get(lib, set()) & names):
            errors.append(f"CMakeLists.txt: {lib} links {name}, against the layering")
    return errors


def symbols(archive):
    """(defined external symbols by member, undefined symbols) of a static library."""
    out = subprocess.run(["nm", "-A", "--format=posix", archive], check=True,
                         capture_output=True, text=True).stdout
    defined, undefined = {}, set()
    for line in out.splitlines():
        # "lib.a[member.o]: name T value size" or "lib.a:member.o: name U"
        head, _, rest = line.rpartition(": ")
        parts = rest.split()
        if len(parts) < 2:
            continue
        member = re.split(r"[\[:]", head.rstrip("]"))[-1]
        if parts[1] == "U":
            undefined.add(parts[0])
        elif parts[1].isupper():
            defined.setdefault(member, set()).add(parts[0])
    return defined, undefined


def check_symbols(build):
    libs = {}
    for lib in ("turn", "admin", "relaycore"):
        path = os.path.join(build, f"lib{lib}.a")
        if not os.path.exists(path):
            return [f"{path}: not built (build the libraries, or leave out --build)"]
        libs[lib] = symbols(path)
    errors = []

    def outside(lib):
        defined, undefined = libs[lib]
        return undefined - set().union(*defined.values())

    def defined_by(lib):
        return set().union(*libs[lib][0].values())

    for name in sorted(outside("turn")):
        if name in TURN_FORBIDDEN_CALLS or name.startswith(TURN_FORBIDDEN_PREFIXES):
            errors.append(f"libturn.a calls {name}: turn/ is sans-I/O")
        elif name in defined_by("relaycore") or name in defined_by("admin"):
            errors.append(f"libturn.a calls {name} of a layer above it")
    turn_allowed = set().union(*(s for m, s in libs["turn"][0].items() if m in ADMIN_TURN_OBJECTS))
    for name in sorted(outside("admin")):
        if name in defined_by("relaycore"):
            errors.append(f"libadmin.a calls {name} of relay/: admin/ is handed a snapshot")
        elif name in defined_by("turn") and name not in turn_allowed:
            objects = ", ".join(sorted(ADMIN_TURN_OBJECTS))
            errors.append(f"libadmin.a calls {name} of turn/ (only {objects} are admin/'s)")
        elif name.startswith(("event_", "evbuffer_", "bufferevent_")):
            errors.append(f"libadmin.a calls {name}: admin/ does not link libevent")
    return errors


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", default=os.path.dirname(here), help="source tree")
    ap.add_argument("--build", help="build tree holding libturn.a, libadmin.a, librelaycore.a")
    args = ap.parse_args()

    errors, uses = check_sources(args.src)
    errors += check_links(args.src, uses)
    if args.build:
        errors += check_symbols(args.build)
    for e in errors:
        print(f"check_layers: {e}")
    if errors:
        print(f"check_layers: {len(errors)} violation(s) of the layer rules")
        return 1
    checked = "sources, CMake links" + (" and built libraries" if args.build else "")
    print(f"check_layers: layer rules hold ({checked})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
