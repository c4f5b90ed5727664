/* blindrelay-bench: pacing arithmetic. A run has global packet slots
 * 0, 1, 2... due at a constant rate; slot k belongs to sender k % n, so the
 * senders take turns evenly whatever the tick length. */
#include "bench.h"

uint64_t bc_pace_due(uint64_t rate, uint64_t elapsed_ns)
{
    /* microseconds keep rate * elapsed in 64 bits: 1e7/s * 3.6e9 us < 2^64 */
    return rate * (elapsed_ns / 1000u) / 1000000u;
}

/* Slots in [0, x) that belong to sender s of n. */
static uint64_t bc_pace_count(uint64_t x, unsigned n, unsigned s)
{
    return x > s ? (x - s - 1) / n + 1 : 0;
}

uint64_t bc_pace_share(uint64_t from, uint64_t to, unsigned n, unsigned s)
{
    if (to <= from || n == 0) {
        return 0;
    }
    return bc_pace_count(to, n, s) - bc_pace_count(from, n, s);
}

uint64_t bc_pace_burst(uint64_t rate, unsigned n)
{
    uint64_t b = rate / 100u;

    return b > n ? b : n;
}
