/* Token buckets per source prefix in a fixed, keyed table. */
#include "ratelimit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 4096

struct bucket {
    uint32_t tokens;
    uint64_t last; /* seconds */
};

struct turn_ratelimit {
    uint32_t rate, burst;
    struct turn_siphash_key key;
    struct bucket buckets[SLOTS];
};

int turn_ratelimit_new(struct turn_ratelimit **out, uint32_t rate)
{
    struct turn_ratelimit *rl = calloc(1, sizeof(*rl));

    if (!rl) {
        return -ENOMEM;
    }
    if (turn_siphash_key_random(&rl->key) < 0) {
        free(rl);
        return -EIO;
    }
    rl->rate = rate;
    rl->burst = rate > UINT32_MAX / 2 ? UINT32_MAX : 2 * rate;
    *out = rl;
    return 0;
}

void turn_ratelimit_free(struct turn_ratelimit *rl)
{
    free(rl);
}

/* The prefix one network (or one attacker) controls: /24 or /48. */
static unsigned slot_of(const struct turn_ratelimit *rl, const union turn_addr *src)
{
    union turn_addr p = *src;

    turn_addr_set_port(&p, 0);
    if (p.sa.sa_family == AF_INET6) {
        memset(&p.in6.sin6_addr.s6_addr[6], 0, 10);
    } else {
        p.in4.sin_addr.s_addr &= htonl(0xFFFFFF00u);
    }
    return turn_addr_hash(&p, &rl->key) % SLOTS;
}

bool turn_ratelimit_allow(struct turn_ratelimit *rl, const union turn_addr *src, uint64_t now)
{
    struct bucket *b;

    if (!rl->rate) {
        return true;
    }
    b = &rl->buckets[slot_of(rl, src)];
    if (now > b->last) {
        uint64_t refill = (now - b->last) * rl->rate;
        b->tokens = refill >= rl->burst - b->tokens ? rl->burst : b->tokens + (uint32_t)refill;
        b->last = now;
    }
    if (!b->tokens) {
        return false;
    }
    b->tokens--;
    return true;
}
