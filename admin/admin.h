/* The admin endpoint: GET /metrics (Prometheus text format), /healthz and
 * /readyz over HTTP on libmicrohttpd, in its own thread. It sees aggregate
 * counters only: it has no path to allocations, addresses or usernames. */
#ifndef ADMIN_ADMIN_H
#define ADMIN_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/relay_stats.h"
#include "turn/addr.h"
#include "turn/stats.h"

/* Resources of capacity-aware readiness, in the order of
 * relay/readiness.h: allocations, relay ports, file descriptors. */
#define ADMIN_CAPACITY_N 3

/* The daemon's own figures in a snapshot, declared as the stats structs are
 * (see turn/stats.h): SCALARS X(field, metric name, type, help) are printed
 * by admin/metrics.c with no per-figure code, ARRAYS X(field, dimensions)
 * by hand with their labels. */
#define ADMIN_SNAPSHOT_SCALARS(X)                                                                  \
    X(relay_ports_range, "blindrelay_relay_ports_range", "gauge",                                  \
      "Ports in relay-ports: the allocations one relay address can hold at once.")                 \
    X(workers, "blindrelay_workers", "gauge", "Worker threads relaying traffic.")                  \
    X(draining, "blindrelay_draining", "gauge",                                                    \
      "1 while draining (SIGUSR1, or SIGTERM with drain-timeout): no new allocations.")            \
    X(ready, "blindrelay_ready", "gauge",                                                          \
      "1 while /readyz answers 200: not draining, and not past ready-high of a capacity limit "    \
      "(until every one is below ready-low again).")

#define ADMIN_SNAPSHOT_ARRAYS(X)                                                                   \
    X(relay_ports_held, [2]) /* IPv4, IPv6 */                                                      \
    X(admin_closed, [2])     /* connections closed to make room, past a deadline; by admin/ */     \
    X(capacity_used, [ADMIN_CAPACITY_N])                                                           \
    X(capacity_limit, [ADMIN_CAPACITY_N]) /* 0: no limit */

#define ADMIN_SNAPSHOT_WORDS                                                                       \
    (0 ADMIN_SNAPSHOT_SCALARS(TURN_STATS_SCALAR_WORDS)                                             \
         ADMIN_SNAPSHOT_ARRAYS(TURN_STATS_ARRAY_WORDS))

/* Aggregates at one instant, summed over workers. */
struct admin_snapshot {
    struct turn_stats turn;
    struct relay_stats relay;
    ADMIN_SNAPSHOT_SCALARS(TURN_STATS_SCALAR_FIELD)
    ADMIN_SNAPSHOT_ARRAYS(TURN_STATS_ARRAY_FIELD)
    uint64_t pad[TURN_STATS_PAD(ADMIN_SNAPSHOT_WORDS)];
};

/* tests/admin/test_metrics.c sets every listed word and finds each printed. */
_Static_assert(sizeof(struct admin_snapshot) ==
                   sizeof(struct turn_stats) + sizeof(struct relay_stats) +
                       sizeof(uint64_t) *
                           (ADMIN_SNAPSHOT_WORDS + TURN_STATS_PAD(ADMIN_SNAPSHOT_WORDS)),
               "struct admin_snapshot must hold the stats structs and listed uint64_t words "
               "only: declare its fields in ADMIN_SNAPSHOT_SCALARS or ADMIN_SNAPSHOT_ARRAYS");

/* How the endpoint reads the daemon. Both callbacks run on the admin
 * thread and must be thread-safe. */
struct admin_source {
    void (*collect)(void *arg, struct admin_snapshot *out);
    /* Listeners up, not draining and not near a capacity limit; when not
     * ready, why (no client data) in why, "" for no reason to give. */
    bool (*ready)(void *arg, char *why, size_t why_len);
    void *arg;
};

struct admin_config {
    union turn_addr listen; /* family 0: no endpoint */
    const char *token_file; /* bearer token file; NULL or "" for none */
};

struct admin;

/* Open descriptors of this process (/proc/self/fd), 0 when unreadable. */
uint64_t admin_open_fds(void);

/* Starts listening and serving. Returns 0 or a negative errno with the
 * reason (naming the config key) in err. */
int admin_start(struct admin **out, const struct admin_config *cfg, const struct admin_source *src,
                char *err, size_t err_len);
/* Reads the bearer token from path (NULL or "": none) and makes it the one
 * /metrics asks for from the next request on (any thread). On failure the
 * previous token stays; returns a negative errno with the reason (naming
 * admin-token-file) in err. */
int admin_set_token_file(struct admin *admin, const char *path, char *err, size_t err_len);

/* Stops the thread and frees. Accepts NULL. */
void admin_stop(struct admin *admin);

#endif
