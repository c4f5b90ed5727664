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

struct turn_stats {
    uint64_t allocations_created;
    uint64_t allocations_active;
    uint64_t permissions_created;
    uint64_t channels_bound;
    uint64_t peers_revoked;      /* permissions and channels ended by a changed peer policy */
    uint64_t permissions_active; /* gauges, refreshed by turn_server_tick */
    uint64_t channels_active;
    uint64_t binding_requests;
    uint64_t requests;
    uint64_t peers_refused;  /* by the peer policy, in requests and in data */
    uint64_t rate_limited;   /* unauthenticated requests left unanswered (unauth-rate) */
    uint64_t auth_key_tries; /* credentials tried: one key derivation and HMAC each */
    uint64_t errors[TURN_STATS_N_CODES];
    uint64_t packets[TURN_DIR_COUNT][TURN_STATS_TRANSPORTS];
    uint64_t bytes[TURN_DIR_COUNT][TURN_STATS_TRANSPORTS];
    uint64_t dropped[TURN_DROP_COUNT];
    uint64_t lifetime_buckets[TURN_STATS_N_LIFETIME]; /* not cumulative */
    uint64_t lifetime_sum;                            /* seconds */
    uint64_t allocate_failures[TURN_ALLOC_FAIL_COUNT];
} __attribute__((aligned(64)));

/* Counts one error response with this code. */
void turn_stats_error(struct turn_stats *stats, int code);

/* Counts an ended allocation that lived this many seconds. */
void turn_stats_lifetime(struct turn_stats *stats, uint64_t seconds);

#endif
