#!/bin/bash
# Interoperability with libnice, the GLib ICE library (GStreamer's webrtcbin,
# Pidgin/Farstream): two libnice agents in one process (ice_libnice.py,
# GObject introspection plus ctypes for the data path) with force-relay set,
# so they gather and offer relayed candidates only, run ICE through the
# server and send 200 datagrams of 994-1000 bytes each way (BR_ICE_COUNT,
# BR_ICE_SIZE). Each run passes when both reach READY, the selected pair is
# relay -> relay on both sides, the agents reach the server over the
# transport under test (over TCP: one TCP connection each), and every
# datagram arrived intact exactly once. Runs: static user
# over UDP and TCP (NICE_RELAY_TYPE_TURN_UDP / _TCP), TURN REST credentials
# over UDP and TCP, and a wrong password, which must not produce a relay
# candidate.
#
#   bash test_libnice.sh BUILD_DIR
#   BR_TEST_SERVER=coturn bash test_libnice.sh BUILD_DIR
#   BR_ICE_COUNT=2000 BR_ICE_SIZE=1201 bash test_libnice.sh BUILD_DIR
#
# Loopback only: libnice leaves loopback out of the interfaces it gathers
# on, so the agents are given 127.0.0.1 explicitly (add_local_address); no
# network namespace is needed, even on a host with nothing but lo. Ports
# 62950-62999 (UDP and TCP), relay ports 64150-64199. Needs Debian's
# python3 with python3-gi and gir1.2-nice-0.1, and ss (iproute2).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

STACK=libnice
ICE_IMPORT='import gi; gi.require_version("Nice", "0.1"); from gi.repository import Nice'
ICE_PACKAGES='apt-get install python3-gi gir1.2-nice-0.1'
ICE_GATHER_FAILED='gathered no candidate'
ICE_PORT_BASE=62950
ICE_RELAY_PORTS=64150-64199
# shellcheck source=ice_lib.sh
. "$(dirname "$0")/ice_lib.sh"
