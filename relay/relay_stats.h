/* Counters of relay/ itself (sockets and connections), per worker. */
#ifndef RELAY_RELAY_STATS_H
#define RELAY_RELAY_STATS_H

#include <stdint.h>

#include "turn/stats.h"

/* Declared as struct turn_stats is (see turn/stats.h): SCALARS are
 * X(field, metric name, type, help), each printed by admin/metrics.c with
 * no per-counter code; ARRAYS X(field, dimensions) are printed by hand. */
#define RELAY_STATS_SCALARS(X)                                                                     \
    X(connections_active, "blindrelay_connections_active", "gauge",                                \
      "TCP and TLS client connections open now.")                                                  \
    X(connections_refused, "blindrelay_connections_refused_total", "counter",                      \
      "TCP and TLS connections closed at once for max-connections or "                             \
      "max-connections-per-ip.")                                                                   \
    X(handshake_failures, "blindrelay_tls_handshake_failures_total", "counter",                    \
      "TLS handshakes that failed or passed handshake-timeout.")                                   \
    X(idle_closed, "blindrelay_connections_idle_closed_total", "counter",                          \
      "TCP and TLS connections closed by idle-timeout.")                                           \
    X(stream_garbage, "blindrelay_connections_garbage_closed_total", "counter",                    \
      "TCP and TLS connections closed for a frame that is neither STUN nor ChannelData.")          \
    X(stream_oversize, "blindrelay_connections_oversize_closed_total", "counter",                  \
      "TCP and TLS connections closed for announcing a frame over max-unauth-frame before "        \
      "holding an allocation.")                                                                    \
    X(proxy_header_failures, "blindrelay_proxy_header_failures_total", "counter",                  \
      "Connections from a proxy-protocol-from address closed for want of a valid PROXY "           \
      "protocol v2 header: invalid, over its bound, or not whole within handshake-timeout.")       \
    X(accept_paused, "blindrelay_accept_paused_total", "counter",                                  \
      "Times a TCP or TLS listener stopped accepting until the next second because "               \
      "accept() failed (out of file descriptors or kernel memory).")                               \
    X(relayed_in_worker, "blindrelay_packets_relayed_in_worker_total", "counter",                  \
      "Relay-to-relay packets between two allocations of one worker, handed over without "         \
      "a trip through the kernel (also counted in blindrelay_packets_relayed_total).")             \
    X(udp_listen_drops, "blindrelay_udp_listen_drops_total", "counter",                            \
      "Datagrams the kernel dropped on the UDP listening sockets before blindrelay read them, "    \
      "almost always for a full receive queue (udp-listen-buffer); read once a second.")

#define RELAY_STATS_ARRAYS(X) X(connections_accepted, [2]) /* [0] TCP, [1] TLS */

#define RELAY_STATS_WORDS                                                                          \
    (0 RELAY_STATS_SCALARS(TURN_STATS_SCALAR_WORDS) RELAY_STATS_ARRAYS(TURN_STATS_ARRAY_WORDS))

/* Written by the owning worker only; readers use relaxed atomic loads. */
struct relay_stats {
    RELAY_STATS_SCALARS(TURN_STATS_SCALAR_FIELD)
    RELAY_STATS_ARRAYS(TURN_STATS_ARRAY_FIELD)
    uint64_t pad[TURN_STATS_PAD(RELAY_STATS_WORDS)];
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct relay_stats) ==
                   sizeof(uint64_t) * (RELAY_STATS_WORDS + TURN_STATS_PAD(RELAY_STATS_WORDS)),
               "struct relay_stats must be uint64_t words only (summed as an array): declare its "
               "fields in RELAY_STATS_SCALARS or RELAY_STATS_ARRAYS");

#endif
