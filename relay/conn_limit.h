/* Caps on TCP/TLS connections, in total and per client address, shared by
 * all workers in fixed memory: per-address counts live in a keyed hash
 * table of counters, so addresses that collide share a count (a collision
 * can only make the cap stricter, never looser). IPv6 clients count per
 * /64, the block one subscriber gets. */
#ifndef RELAY_CONN_LIMIT_H
#define RELAY_CONN_LIMIT_H

#include <stdint.h>

#include "turn/addr.h"

struct conn_limit;

int conn_limit_new(struct conn_limit **out, uint32_t max_total, uint32_t max_per_ip);
void conn_limit_free(struct conn_limit *cl);

/* Changes the caps for connections accepted from now on (any thread);
 * connections beyond a lowered cap stay open. */
void conn_limit_set(struct conn_limit *cl, uint32_t max_total, uint32_t max_per_ip);

/* Counts a new connection from addr's IP. Returns its slot (for release)
 * or -EMFILE when a cap is reached. */
int conn_limit_take(struct conn_limit *cl, const union turn_addr *addr);
void conn_limit_release(struct conn_limit *cl, int slot);

#endif
