/* Per-worker protocol counters. Written only by the owning worker (plain
 * increments); readers on other threads load them with relaxed atomics. */
#ifndef TURN_STATS_H
#define TURN_STATS_H

#include <stdint.h>

enum turn_dir {
    TURN_DIR_TO_PEER,
    TURN_DIR_TO_CLIENT,
    TURN_DIR_COUNT,
};

enum turn_drop {
    TURN_DROP_MALFORMED,     /* not STUN/ChannelData, or failed to decode */
    TURN_DROP_NO_ALLOCATION, /* ChannelData, Send, Refresh, CreatePermission, ChannelBind
                                without an allocation */
    TURN_DROP_NO_PERMISSION, /* peer without permission, unbound channel */
    TURN_DROP_POLICY,        /* peer refused by policy */
    TURN_DROP_UNEXPECTED,    /* a response or an indication we do not take */
    TURN_DROP_BUFFER_FULL,   /* a stream client's queue was full (relay/ counts it) */
    TURN_DROP_BANDWIDTH,     /* over the allocation's max-bps */
    TURN_DROP_OVERSIZED,     /* a request over 4 KiB from a tuple without an allocation */
    TURN_DROP_COUNT,
};

/* Why an Allocate got 508 (the server's side, not the request's). */
enum turn_alloc_fail {
    TURN_ALLOC_FAIL_FDS,   /* no file descriptor for a relay socket (EMFILE, ENFILE) */
    TURN_ALLOC_FAIL_PORTS, /* every port of the relay range is taken */
    TURN_ALLOC_FAIL_OTHER, /* anything else: memory, an unknown reservation token */
    TURN_ALLOC_FAIL_COUNT,
};

/* Client transports, indexed by enum turn_transport (udp, tcp, tls). */
#define TURN_STATS_TRANSPORTS 3

/* Upper bounds (seconds) of the allocation lifetime histogram buckets; the
 * last bucket, past them, is +Inf. */
#define TURN_STATS_N_LIFETIME 8
extern const uint32_t turn_stats_lifetime_bounds[TURN_STATS_N_LIFETIME - 1];

/* Error responses by code, in the order of turn_stats_error_codes. */
#define TURN_STATS_N_CODES 14
extern const uint16_t turn_stats_error_codes[TURN_STATS_N_CODES];

/* Every field of a stats struct (this one and relay/relay_stats.h's) is
 * declared through an X-macro list, which fixes its type to uint64_t:
 * relay/worker.c sums the workers' structs as arrays of uint64_t words.
 *
 * SCALARS: X(field, metric name, type, help), one unlabelled sample each.
 * admin/metrics.c prints every entry, in this order, with no per-counter
 * code; a new one needs a row in docs/operations.md (a unit test checks).
 * ARRAYS: X(field, dimensions), printed by hand in admin/metrics.c with
 * their label tables (the histogram's sum, with no dimension, too). */
#define TURN_STATS_SCALARS(X)                                                                      \
    X(allocations_active, "blindrelay_allocations_active", "gauge", "Allocations that exist now.") \
    X(allocations_created, "blindrelay_allocations_created_total", "counter",                      \
      "Allocations created (successful Allocate requests).")                                       \
    X(permissions_active, "blindrelay_permissions_active", "gauge",                                \
      "Permissions that exist now, over all allocations (refreshed every second).")                \
    X(permissions_created, "blindrelay_permissions_created_total", "counter",                      \
      "Permissions installed by CreatePermission.")                                                \
    X(channels_active, "blindrelay_channels_active", "gauge",                                      \
      "Channel bindings that exist now, over all allocations (refreshed every second).")           \
    X(channels_bound, "blindrelay_channels_bound_total", "counter",                                \
      "Successful ChannelBind requests.")                                                          \
    X(requests, "blindrelay_requests_total", "counter",                                            \
      "STUN and TURN requests received (Binding included).")                                       \
    X(binding_requests, "blindrelay_binding_requests_total", "counter",                            \
      "STUN Binding requests answered.")                                                           \
    X(peers_refused, "blindrelay_peers_refused_total", "counter",                                  \
      "Peer addresses refused by the peer policy, in requests and in arriving data.")              \
    X(peers_revoked, "blindrelay_peers_revoked_total", "counter",                                  \
      "Permissions and channels ended because a changed peer policy refuses them "                 \
      "(SIGHUP, host addresses).")                                                                 \
    X(rate_limited, "blindrelay_rate_limited_total", "counter",                                    \
      "Unauthenticated UDP requests left unanswered by unauth-rate (reflection guard).")           \
    X(auth_key_tries, "blindrelay_auth_key_tries_total", "counter",                                \
      "Credentials tried on requests: each one key derivation and one MESSAGE-INTEGRITY "          \
      "HMAC (at most one per auth-secret, or one for a static user, per request).")

#define TURN_STATS_ARRAYS(X)                                                                       \
    X(errors, [TURN_STATS_N_CODES])                                                                \
    X(packets, [TURN_DIR_COUNT][TURN_STATS_TRANSPORTS])                                            \
    X(bytes, [TURN_DIR_COUNT][TURN_STATS_TRANSPORTS])                                              \
    X(dropped, [TURN_DROP_COUNT])                                                                  \
    X(lifetime_buckets, [TURN_STATS_N_LIFETIME]) /* not cumulative */                              \
    X(lifetime_sum, /* seconds */)                                                                 \
    X(allocate_failures, [TURN_ALLOC_FAIL_COUNT])

/* Helpers for the lists above (used by relay/relay_stats.h too). */
#define TURN_STATS_SCALAR_FIELD(field, name, type, help) uint64_t field;
#define TURN_STATS_ARRAY_FIELD(field, dims) uint64_t field dims;
#define TURN_STATS_SCALAR_WORDS(field, name, type, help) +1
#define TURN_STATS_ARRAY_WORDS(field, dims) +sizeof(uint64_t dims) / sizeof(uint64_t)
/* Explicit padding up to the 64-byte line, 1 to 8 words, so that the
 * compiler adds none: the struct's size then tells whether anything but the
 * listed words entered it. The padding words stay 0 and sum to 0. */
#define TURN_STATS_PAD(words) (8 - (words) % 8)

/* Words of the listed fields (the padding excluded). */
#define TURN_STATS_WORDS                                                                           \
    (0 TURN_STATS_SCALARS(TURN_STATS_SCALAR_WORDS) TURN_STATS_ARRAYS(TURN_STATS_ARRAY_WORDS))

struct turn_stats {
    TURN_STATS_SCALARS(TURN_STATS_SCALAR_FIELD)
    TURN_STATS_ARRAYS(TURN_STATS_ARRAY_FIELD)
    uint64_t pad[TURN_STATS_PAD(TURN_STATS_WORDS)];
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct turn_stats) ==
                   sizeof(uint64_t) * (TURN_STATS_WORDS + TURN_STATS_PAD(TURN_STATS_WORDS)),
               "struct turn_stats must be uint64_t words only (summed as an array): declare its "
               "fields in TURN_STATS_SCALARS or TURN_STATS_ARRAYS");

/* Counts one error response with this code. */
void turn_stats_error(struct turn_stats *stats, int code);

/* Counts an ended allocation that lived this many seconds. */
void turn_stats_lifetime(struct turn_stats *stats, uint64_t seconds);

#endif
