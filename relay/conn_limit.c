/* Connection caps with atomic counters in a fixed table. */
#include "conn_limit.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 16384 /* 64 KiB of counters */

struct conn_limit {
    _Atomic uint32_t total;
    _Atomic uint32_t max_total, max_per_ip; /* changed by a reload, read by every worker */
    struct turn_siphash_key key;
    _Atomic uint32_t per_ip[SLOTS];
};

int conn_limit_new(struct conn_limit **out, uint32_t max_total, uint32_t max_per_ip)
{
    struct conn_limit *cl = calloc(1, sizeof(*cl));

    if (!cl) {
        return -ENOMEM;
    }
    if (turn_siphash_key_random(&cl->key) < 0) {
        free(cl);
        return -EIO;
    }
    conn_limit_set(cl, max_total, max_per_ip);
    *out = cl;
    return 0;
}

void conn_limit_set(struct conn_limit *cl, uint32_t max_total, uint32_t max_per_ip)
{
    atomic_store_explicit(&cl->max_total, max_total, memory_order_relaxed);
    atomic_store_explicit(&cl->max_per_ip, max_per_ip, memory_order_relaxed);
}

void conn_limit_free(struct conn_limit *cl)
{
    free(cl);
}

/* Keyed so that a client cannot choose addresses that collide with another
 * client's slot. */
static unsigned slot_of(const struct conn_limit *cl, const union turn_addr *addr)
{
    union turn_addr ip = *addr;
    uint64_t h;

    turn_addr_set_port(&ip, 0);
    if (ip.sa.sa_family == AF_INET6) {
        /* one IPv6 subscriber holds a /64: count it as one address */
        memset(&ip.in6.sin6_addr.s6_addr[8], 0, 8);
    }
    h = turn_addr_hash(&ip, &cl->key);
    return (unsigned)(h % SLOTS);
}

int conn_limit_take(struct conn_limit *cl, const union turn_addr *addr)
{
    unsigned slot = slot_of(cl, addr);

    if (atomic_fetch_add(&cl->total, 1) >=
        atomic_load_explicit(&cl->max_total, memory_order_relaxed)) {
        atomic_fetch_sub(&cl->total, 1);
        return -EMFILE;
    }
    if (atomic_fetch_add(&cl->per_ip[slot], 1) >=
        atomic_load_explicit(&cl->max_per_ip, memory_order_relaxed)) {
        atomic_fetch_sub(&cl->per_ip[slot], 1);
        atomic_fetch_sub(&cl->total, 1);
        return -EMFILE;
    }
    return (int)slot;
}

void conn_limit_release(struct conn_limit *cl, int slot)
{
    atomic_fetch_sub(&cl->per_ip[slot], 1);
    atomic_fetch_sub(&cl->total, 1);
}
