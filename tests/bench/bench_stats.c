/* blindrelay-bench: latency histogram (log-linear, HDR-style) and
 * per-stream loss, duplicate and reorder accounting. Pure: no I/O. */
#include "bench.h"

#include <string.h>

unsigned bc_hist_index(uint64_t v)
{
    unsigned e;

    if (v < 2 * BC_HIST_SUB) {
        return (unsigned)v;
    }
    e = 63u - (unsigned)__builtin_clzll(v); /* >= 7 */
    if (e > 47) {
        return BC_HIST_BUCKETS - 1; /* beyond 39 hours: clamp */
    }
    /* 6 bits below the leading one select the sub-bucket */
    return 2 * BC_HIST_SUB + (e - 7) * BC_HIST_SUB + (unsigned)((v >> (e - 6)) & (BC_HIST_SUB - 1));
}

/* Middle of bucket i. */
static uint64_t bc_hist_value(unsigned i)
{
    unsigned e, m;
    uint64_t lo;

    if (i < 2 * BC_HIST_SUB) {
        return i;
    }
    e = (i - 2 * BC_HIST_SUB) / BC_HIST_SUB + 7;
    m = (i - 2 * BC_HIST_SUB) % BC_HIST_SUB;
    lo = (uint64_t)(BC_HIST_SUB + m) << (e - 6);
    return lo + ((uint64_t)1 << (e - 6)) / 2;
}

void bc_hist_add(struct bc_hist *h, uint64_t v)
{
    h->b[bc_hist_index(v)]++;
    h->count++;
    h->sum += v;
    if (v > h->max) {
        h->max = v;
    }
}

void bc_hist_merge(struct bc_hist *dst, const struct bc_hist *src)
{
    for (unsigned i = 0; i < BC_HIST_BUCKETS; i++) {
        dst->b[i] += src->b[i];
    }
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->max > dst->max) {
        dst->max = src->max;
    }
}

uint64_t bc_hist_quantile(const struct bc_hist *h, double q)
{
    uint64_t rank, seen = 0;

    if (h->count == 0) {
        return 0;
    }
    rank = (uint64_t)(q * (double)h->count + 0.999999);
    if (rank < 1) {
        rank = 1;
    }
    if (rank > h->count) {
        rank = h->count;
    }
    for (unsigned i = 0; i < BC_HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t v = bc_hist_value(i);

            return v > h->max ? h->max : v;
        }
    }
    return h->max;
}

static bool bc_bit_test_set(uint64_t *bits, uint32_t seq)
{
    uint32_t i = seq % BC_SEQ_WINDOW;
    uint64_t m = (uint64_t)1 << (i % 64);
    bool was = (bits[i / 64] & m) != 0;

    bits[i / 64] |= m;
    return was;
}

static void bc_bit_clear(uint64_t *bits, uint32_t seq)
{
    uint32_t i = seq % BC_SEQ_WINDOW;

    bits[i / 64] &= ~((uint64_t)1 << (i % 64));
}

bool bc_seq_add(struct bc_seq *s, uint32_t seq)
{
    if (!s->any || seq > s->highest) {
        uint32_t from = s->any ? s->highest + 1 : 0;

        /* slide the window: forget the slots the new head reuses */
        if (seq - from >= BC_SEQ_WINDOW) {
            memset(s->bits, 0, sizeof(s->bits));
        } else {
            for (uint32_t k = from; k != seq; k++) {
                bc_bit_clear(s->bits, k);
            }
        }
        bc_bit_clear(s->bits, seq);
        bc_bit_test_set(s->bits, seq);
        s->any = true;
        s->highest = seq;
        s->unique++;
        return true;
    }
    if (s->highest - seq >= BC_SEQ_WINDOW) {
        s->late++;
        s->reordered++;
        s->unique++;
        return true;
    }
    if (bc_bit_test_set(s->bits, seq)) {
        s->dup++;
        return false;
    }
    s->reordered++;
    s->unique++;
    return true;
}
