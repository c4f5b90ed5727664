#!/bin/bash
# Interoperability with aioice, a Python ICE stack (Debian python3-aioice):
# two aioice agents in one process (ice_aioice.py) gather relay candidates
# only (no host candidates at all), run ICE through the server, and send 200
# datagrams of 994-1000 bytes each way (BR_ICE_COUNT, BR_ICE_SIZE). Each run passes when ICE completes, the nominated pair
# is relay -> relay on both sides and reaches the server over the transport
# under test, and every datagram arrived intact exactly once. Runs: static
# user over UDP and TCP, TURN REST credentials over UDP and TCP, and a wrong
# password, which must not produce a relay candidate.
#
#   bash test_aioice.sh BUILD_DIR
#   BR_TEST_SERVER=coturn bash test_aioice.sh BUILD_DIR
#   BR_ICE_COUNT=2000 BR_ICE_SIZE=1201 bash test_aioice.sh BUILD_DIR
#
# Loopback only. Ports 62550-62599 (UDP and TCP), relay ports 64100-64149.
# Needs Debian's python3 with python3-aioice (not a pip/venv python).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

STACK=aioice
ICE_IMPORT='import aioice'
ICE_PACKAGES='apt-get install python3-aioice'
ICE_GATHER_FAILED='gathering failed'
ICE_PORT_BASE=62550
ICE_RELAY_PORTS=64100-64149
# shellcheck source=ice_lib.sh
. "$(dirname "$0")/ice_lib.sh"
