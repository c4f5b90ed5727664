/* Token buckets per source prefix in a fixed, keyed table shared by all
 * workers. Each bucket is one atomic word, updated by compare-and-swap:
 *
 *    63             32 31              0
 *   +-----------------+-----------------+
 *   |     tokens      |  last + 1 (s)   |   0: never used (a full burst)
 *   +-----------------+-----------------+
 *
 * Refill adds rate tokens per second up to the burst; earned tokens above
 * the burst are kept but never refilled. One more bucket of the same form,
 * for the whole server, holds the answers that prefixes spend from their
 * base tokens (total, see ratelimit.h). */
#include "ratelimit.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 16384

struct turn_ratelimit {
    _Atomic uint32_t rate, total_rate;
    _Atomic uint64_t total;
    struct turn_siphash_key key;
    _Atomic uint64_t slots[SLOTS];
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
    atomic_init(&rl->rate, rate);
    *out = rl;
    return 0;
}

void turn_ratelimit_free(struct turn_ratelimit *rl)
{
    free(rl);
}

void turn_ratelimit_set_rate(struct turn_ratelimit *rl, uint32_t rate)
{
    atomic_store_explicit(&rl->rate, rate, memory_order_relaxed);
}

void turn_ratelimit_set_total(struct turn_ratelimit *rl, uint32_t rate)
{
    atomic_store_explicit(&rl->total_rate, rate, memory_order_relaxed);
}

/* The prefix one network (or one attacker) controls: /24 or /48. */
static _Atomic uint64_t *slot_of(struct turn_ratelimit *rl, const union turn_addr *src)
{
    union turn_addr p = *src;

    turn_addr_canonical(&p);
    turn_addr_set_port(&p, 0);
    if (p.sa.sa_family == AF_INET6) {
        memset(&p.in6.sin6_addr.s6_addr[6], 0, 10);
        p.in6.sin6_flowinfo = 0;
        p.in6.sin6_scope_id = 0;
    } else {
        p.in4.sin_addr.s_addr &= htonl(0xFFFFFF00u);
    }
    return &rl->slots[turn_addr_hash(&p, &rl->key) % SLOTS];
}

struct bucket {
    uint64_t tokens;
    uint32_t last;
};

static uint64_t burst_of(uint32_t rate)
{
    uint64_t burst = 2 * (uint64_t)rate;

    return burst > UINT32_MAX ? UINT32_MAX : burst;
}

/* The bucket as of now: refilled for the seconds since its last use. A
 * reading from a worker whose clock is behind refills nothing. */
static struct bucket bucket_at(uint64_t word, uint64_t now, uint32_t rate)
{
    struct bucket b = {.tokens = word >> 32, .last = (uint32_t)now};
    uint64_t burst = burst_of(rate);
    int32_t elapsed;

    if (word == 0) {
        b.tokens = burst;
        return b;
    }
    elapsed = (int32_t)((uint32_t)now - ((uint32_t)word - 1));
    if (elapsed <= 0) {
        b.last = (uint32_t)word - 1;
        return b;
    }
    if (b.tokens < burst) {
        uint64_t refill = (uint64_t)elapsed * rate;
        b.tokens = refill >= burst - b.tokens ? burst : b.tokens + refill;
    }
    return b;
}

static uint64_t word_of(struct bucket b)
{
    return b.tokens << 32 | (uint32_t)(b.last + 1);
}

/* Takes one token from the bucket in slot unless it is empty; earned, when
 * given, tells whether the token came from above the burst. */
static bool take(_Atomic uint64_t *slot, uint64_t now, uint32_t rate, bool *earned)
{
    uint64_t old = atomic_load_explicit(slot, memory_order_relaxed);
    struct bucket b;

    do {
        b = bucket_at(old, now, rate);
        if (!b.tokens) {
            return false;
        }
        if (earned) {
            *earned = b.tokens > burst_of(rate);
        }
        b.tokens--;
    } while (!atomic_compare_exchange_weak_explicit(slot, &old, word_of(b), memory_order_relaxed,
                                                    memory_order_relaxed));
    return true;
}

/* Gives back a token taken in the same second (the total refused). */
static void give_back(_Atomic uint64_t *slot)
{
    atomic_fetch_add_explicit(slot, (uint64_t)1 << 32, memory_order_relaxed);
}

bool turn_ratelimit_allow(struct turn_ratelimit *rl, const union turn_addr *src, uint64_t now)
{
    uint32_t rate = atomic_load_explicit(&rl->rate, memory_order_relaxed);
    uint32_t total = atomic_load_explicit(&rl->total_rate, memory_order_relaxed);
    _Atomic uint64_t *slot;
    bool earned = false;

    if (!rate) {
        return true;
    }
    slot = slot_of(rl, src);
    if (!take(slot, now, rate, &earned)) {
        return false;
    }
    /* base tokens of every prefix together stay within the total, so a
     * flood forged from many prefixes cannot make the server answer at
     * will; earned tokens are proof of real clients and do not count */
    if (!earned && total && !take(&rl->total, now, total, NULL)) {
        give_back(slot);
        return false;
    }
    return true;
}

void turn_ratelimit_credit(struct turn_ratelimit *rl, const union turn_addr *src, uint64_t now)
{
    uint32_t rate = atomic_load_explicit(&rl->rate, memory_order_relaxed);
    uint64_t cap = burst_of(rate) * TURN_RATELIMIT_EARN_FACTOR;
    _Atomic uint64_t *slot;
    uint64_t old;
    struct bucket b;

    if (!rate) {
        return;
    }
    cap = cap > UINT32_MAX ? UINT32_MAX : cap;
    slot = slot_of(rl, src);
    old = atomic_load_explicit(slot, memory_order_relaxed);
    do {
        b = bucket_at(old, now, rate);
        if (b.tokens >= cap) {
            return;
        }
        b.tokens = cap - b.tokens < TURN_RATELIMIT_CREDIT ? cap : b.tokens + TURN_RATELIMIT_CREDIT;
    } while (!atomic_compare_exchange_weak_explicit(slot, &old, word_of(b), memory_order_relaxed,
                                                    memory_order_relaxed));
}
