/* The admin endpoint's connection table: deadlines, and room made for a
 * newcomer by closing the longest-idle connection of the busiest address,
 * so that connections held open cannot keep a probe out. */
#include "admin/conns.h"

#include <netinet/in.h>
#include <string.h>

static bool in_use(const struct admin_conn *c)
{
    return c->fd >= 0 && !c->closing;
}

static void addr_key(const struct sockaddr *sa, uint8_t key[17])
{
    memset(key, 0, 17);
    if (!sa) {
        return;
    }
    key[0] = (uint8_t)sa->sa_family;
    if (sa->sa_family == AF_INET) {
        memcpy(key + 1, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        /* a /64 is what one IPv6 client can pick addresses from */
        memcpy(key + 1, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 8);
    }
}

static unsigned count_addr(const struct admin_conns *t, const uint8_t *key)
{
    unsigned n = 0;

    for (unsigned i = 0; i < ADMIN_CONNS_MAX; i++) {
        n += in_use(&t->slot[i]) && memcmp(t->slot[i].key, key, 17) == 0;
    }
    return n;
}

/* The address with the most connections in use (NULL: none in use). */
static const uint8_t *busiest_addr(const struct admin_conns *t)
{
    const uint8_t *best = NULL;
    unsigned best_n = 0;

    for (unsigned i = 0; i < ADMIN_CONNS_MAX; i++) {
        unsigned n = in_use(&t->slot[i]) ? count_addr(t, t->slot[i].key) : 0;
        if (n > best_n) {
            best = t->slot[i].key;
            best_n = n;
        }
    }
    return best;
}

/* Of key's connections in use: the one idle longest; one being answered
 * only if none is idle. */
static struct admin_conn *longest_idle(struct admin_conns *t, const uint8_t *key)
{
    struct admin_conn *best = NULL;

    for (unsigned i = 0; i < ADMIN_CONNS_MAX; i++) {
        struct admin_conn *c = &t->slot[i];
        if (!in_use(c) || memcmp(c->key, key, 17) != 0) {
            continue;
        }
        if (!best || (best->busy && !c->busy) ||
            (best->busy == c->busy && c->since_ms < best->since_ms)) {
            best = c;
        }
    }
    return best;
}

static void mark_closing(struct admin_conn *c)
{
    if (c) {
        c->closing = true;
        c->deadline_ms = 0;
    }
}

void admin_conns_init(struct admin_conns *t, unsigned soft_max, unsigned per_addr_max)
{
    memset(t, 0, sizeof(*t));
    for (unsigned i = 0; i < ADMIN_CONNS_MAX; i++) {
        t->slot[i].fd = -1;
    }
    t->soft_max = soft_max;
    t->per_addr_max = per_addr_max;
}

struct admin_conn *admin_conns_open(struct admin_conns *t, int fd, const struct sockaddr *sa,
                                    int64_t now, int64_t deadline_ms)
{
    struct admin_conn *free_slot = NULL;
    unsigned total = 0;
    uint8_t key[17];

    addr_key(sa, key);
    for (unsigned i = 0; i < ADMIN_CONNS_MAX; i++) {
        total += in_use(&t->slot[i]);
        if (!free_slot && t->slot[i].fd < 0) {
            free_slot = &t->slot[i];
        }
    }
    if (!free_slot || fd < 0) {
        return NULL;
    }
    if (count_addr(t, key) + 1 > t->per_addr_max) {
        mark_closing(longest_idle(t, key));
    } else if (total + 1 > t->soft_max) {
        const uint8_t *busiest = busiest_addr(t);
        mark_closing(busiest ? longest_idle(t, busiest) : NULL);
    }
    *free_slot = (struct admin_conn){.fd = fd, .since_ms = now, .deadline_ms = now + deadline_ms};
    memcpy(free_slot->key, key, sizeof(key));
    return free_slot;
}

unsigned admin_conns_request(struct admin_conn *c)
{
    c->busy = true;
    return ++c->requests;
}

void admin_conns_answered(struct admin_conn *c, int64_t now, int64_t keepalive_ms)
{
    c->busy = false;
    c->since_ms = now;
    if (!c->closing) {
        c->deadline_ms = now + keepalive_ms;
    }
}

void admin_conns_close(struct admin_conn *c)
{
    if (c) {
        c->fd = -1;
    }
}

int64_t admin_conns_enforce(struct admin_conns *t, int64_t now, int64_t max_wait_ms)
{
    int64_t next = now + max_wait_ms;

    for (unsigned i = 0; i < ADMIN_CONNS_MAX; i++) {
        struct admin_conn *c = &t->slot[i];
        if (c->fd < 0 || c->deadline_ms == INT64_MAX) {
            continue;
        }
        if (c->deadline_ms <= now) {
            t->closed[c->closing ? ADMIN_CLOSE_ROOM : ADMIN_CLOSE_DEADLINE]++;
            shutdown(c->fd, SHUT_RDWR);
            c->closing = true;
            c->deadline_ms = INT64_MAX;
        } else if (c->deadline_ms < next) {
            next = c->deadline_ms;
        }
    }
    return next - now;
}
