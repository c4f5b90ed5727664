/* A worker: one thread, one libevent loop, its own SO_REUSEPORT listening
 * sockets, and the allocations (with their relay sockets) created through
 * them. Nothing in a worker is touched by another thread except its
 * counters, which others only read. */
#ifndef RELAY_WORKER_H
#define RELAY_WORKER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy_v2.h"
#include "relay_stats.h"
#include "turn/server.h"

#define BR_ENV_MAX_LISTEN 8

/* What every worker shares, read-only after start. */
struct relay_env {
    union turn_addr listen[BR_ENV_MAX_LISTEN];
    size_t n_listen;
    union turn_addr relay_ip4, relay_ip6;       /* family 0 = none */
    union turn_addr external_ip4, external_ip6; /* family 0 = advertise relay_ip */
    uint16_t port_min, port_max;
    struct reservations *reservations; /* shared, locked inside */
    struct relay_ports *ports;         /* shared bitmap of held relay ports */
    struct conn_limit *conn_limit;     /* shared, atomic inside */
    struct tls_store *tls;             /* shared, locked inside; NULL without TLS */
    struct rules_box *rules;           /* credentials and peer policy, swapped on SIGHUP */
    atomic_bool *draining;             /* set by the daemon; taken at each tick */
    bool tcp;                          /* TCP listeners beside the UDP ones */
    union turn_addr tls_listen[BR_ENV_MAX_LISTEN];
    size_t n_tls_listen;
    struct proxy_v2_trust proxy_from; /* may send a PROXY v2 header; none: no header taken */
    /* auth, policy and quota; ops filled per worker, the limits from the
     * rules' settings (struct relay_settings) */
    struct turn_server_config turn;
};

struct worker;
struct conn_limit;
struct tls_store;
struct rules_box;
struct relay_ports;

/* Creates a worker with its loop and listening sockets. Returns 0 or a
 * negative errno; what then names the step that failed (for the fatal line). */
int worker_new(struct worker **out, const struct relay_env *env, unsigned index, char *what,
               size_t what_len);
/* Runs the loop in a new thread. Returns 0 or a negative errno. */
int worker_start(struct worker *w);
/* Asks the loop to finish (from any thread) and joins the thread. */
void worker_stop(struct worker *w);
/* Frees everything (after worker_stop). Accepts NULL. */
void worker_free(struct worker *w);

const struct turn_stats *worker_stats(struct worker *w);
const struct relay_stats *worker_relay_stats(struct worker *w);

/* The rules generation (credentials, peer policy and settings) this
 * worker runs with (any thread may ask). */
uint64_t worker_rules_generation(struct worker *w);

/* Adds this worker's counters into the sums, reading each with a relaxed
 * atomic load (the worker keeps writing them). */
void worker_collect(struct worker *w, struct turn_stats *turn, struct relay_stats *relay);

#endif
