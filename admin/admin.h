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

/* Aggregates at one instant, summed over workers. */
struct admin_snapshot {
    struct turn_stats turn;
    struct relay_stats relay;
    unsigned workers;
    uint64_t draining;            /* 1 while draining, else 0 */
    uint64_t relay_ports_range;   /* ports in relay-ports */
    uint64_t relay_ports_held[2]; /* IPv4, IPv6 */
    uint64_t admin_closed[2];     /* admin connections closed to make room, past a deadline;
                                     filled by admin/ itself */
};

/* How the endpoint reads the daemon. Both callbacks run on the admin
 * thread and must be thread-safe. */
struct admin_source {
    void (*collect)(void *arg, struct admin_snapshot *out);
    bool (*ready)(void *arg); /* listeners up and not draining */
    void *arg;
};

struct admin_config {
    union turn_addr listen; /* family 0: no endpoint */
    const char *token_file; /* bearer token file; NULL or "" for none */
};

struct admin;

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
