/* Unit tests for blindrelay-bench's latency percentiles and sequence
 * accounting (bench_stats.c). */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "bench.h"

static struct bc_hist *hist_new(void)
{
    return calloc(1, sizeof(struct bc_hist));
}

Test(hist, exact_for_small_values)
{
    struct bc_hist *h = hist_new();

    for (uint64_t v = 1; v <= 100; v++) {
        bc_hist_add(h, v);
    }
    cr_assert_eq(bc_hist_quantile(h, 0.5), 50);
    cr_assert_eq(bc_hist_quantile(h, 0.99), 99);
    cr_assert_eq(bc_hist_quantile(h, 1.0), 100);
    cr_assert_eq(bc_hist_quantile(h, 0.0), 1);
    cr_assert_eq(h->max, 100);
    free(h);
}

Test(hist, empty_is_zero)
{
    struct bc_hist *h = hist_new();

    cr_assert_eq(bc_hist_quantile(h, 0.99), 0);
    free(h);
}

Test(hist, percentiles_within_two_percent)
{
    struct bc_hist *h = hist_new();

    /* 1 us .. 10 ms in 1 us steps: the q-quantile is q * 10 ms */
    for (uint64_t us = 1; us <= 10000; us++) {
        bc_hist_add(h, us * 1000);
    }
    static const double qs[] = {0.5, 0.9, 0.99, 0.999};
    for (unsigned i = 0; i < 4; i++) {
        double want = qs[i] * 10000 * 1000;
        double got = (double)bc_hist_quantile(h, qs[i]);

        cr_assert(got > want * 0.98 && got < want * 1.02, "q=%g got %g want %g", qs[i], got, want);
    }
    cr_assert_eq(bc_hist_quantile(h, 1.0), 10000000); /* clamped to the max */
    free(h);
}

Test(hist, tail_is_seen)
{
    struct bc_hist *h = hist_new();

    for (int i = 0; i < 990; i++) {
        bc_hist_add(h, 100000); /* 100 us */
    }
    for (int i = 0; i < 10; i++) {
        bc_hist_add(h, 50000000); /* 50 ms */
    }
    cr_assert_lt(bc_hist_quantile(h, 0.99), 102000);
    cr_assert_gt(bc_hist_quantile(h, 0.991), 49000000);
    free(h);
}

Test(hist, indexes_are_monotonic_and_bounded)
{
    unsigned prev = 0;

    for (uint64_t v = 0; v < ((uint64_t)1 << 50); v = v * 2 + 1 + v / 7) {
        unsigned i = bc_hist_index(v);

        cr_assert_geq(i, prev);
        cr_assert_lt(i, BC_HIST_BUCKETS);
        prev = i;
    }
    cr_assert_lt(bc_hist_index(UINT64_MAX), BC_HIST_BUCKETS);
}

Test(hist, merge_adds)
{
    struct bc_hist *a = hist_new(), *b = hist_new();

    bc_hist_add(a, 10);
    bc_hist_add(b, 1000);
    bc_hist_merge(a, b);
    cr_assert_eq(a->count, 2);
    cr_assert_eq(a->max, 1000);
    cr_assert_eq(a->sum, 1010);
    free(a);
    free(b);
}

Test(seq, in_order_has_no_reorder)
{
    struct bc_seq s = {0};

    for (uint32_t i = 0; i < 20000; i++) {
        cr_assert(bc_seq_add(&s, i));
    }
    cr_assert_eq(s.unique, 20000);
    cr_assert_eq(s.reordered + s.dup + s.late, 0);
}

Test(seq, loss_is_sent_minus_unique)
{
    struct bc_seq s = {0};
    uint32_t sent = 1000;

    for (uint32_t i = 0; i < sent; i++) {
        if (i % 10 != 3) {
            bc_seq_add(&s, i);
        }
    }
    cr_assert_eq(sent - s.unique, 100);
    cr_assert_eq(s.reordered, 0);
}

Test(seq, swap_is_one_reorder)
{
    struct bc_seq s = {0};

    bc_seq_add(&s, 0);
    bc_seq_add(&s, 2);
    bc_seq_add(&s, 1);
    bc_seq_add(&s, 3);
    cr_assert_eq(s.unique, 4);
    cr_assert_eq(s.reordered, 1);
    cr_assert_eq(s.dup, 0);
}

Test(seq, duplicates_are_not_unique)
{
    struct bc_seq s = {0};

    cr_assert(bc_seq_add(&s, 0));
    cr_assert(bc_seq_add(&s, 1));
    cr_assert_not(bc_seq_add(&s, 1));
    cr_assert_not(bc_seq_add(&s, 0));
    cr_assert(bc_seq_add(&s, 5));
    cr_assert_not(bc_seq_add(&s, 5));
    cr_assert(bc_seq_add(&s, 3)); /* a gap filled late */
    cr_assert_not(bc_seq_add(&s, 3));
    cr_assert_eq(s.unique, 4);
    cr_assert_eq(s.dup, 4);
    cr_assert_eq(s.reordered, 1);
}

Test(seq, window_slides_without_stale_bits)
{
    struct bc_seq s = {0};

    bc_seq_add(&s, 5);
    /* 5 + BC_SEQ_WINDOW reuses 5's slot: it must not look like a duplicate */
    cr_assert(bc_seq_add(&s, 5 + BC_SEQ_WINDOW));
    cr_assert(bc_seq_add(&s, 6 + BC_SEQ_WINDOW));
    /* a jump beyond the window clears everything */
    cr_assert(bc_seq_add(&s, 10 * BC_SEQ_WINDOW));
    cr_assert(bc_seq_add(&s, 10 * BC_SEQ_WINDOW - 1));
    cr_assert_eq(s.dup, 0);
}

Test(seq, older_than_window_is_late)
{
    struct bc_seq s = {0};

    bc_seq_add(&s, 3 * BC_SEQ_WINDOW);
    cr_assert(bc_seq_add(&s, 1));
    cr_assert_eq(s.late, 1);
    cr_assert_eq(s.reordered, 1);
    cr_assert_eq(s.unique, 2);
}

Test(seq, first_packet_need_not_be_zero)
{
    struct bc_seq s = {0};

    cr_assert(bc_seq_add(&s, 7));
    cr_assert(bc_seq_add(&s, 0)); /* 0 was lost in flight and came late */
    cr_assert_eq(s.reordered, 1);
    cr_assert_eq(s.unique, 2);
}
