/* Unit tests for blindrelay-bench's pacing arithmetic (bench_pace.c). */
#include <criterion/criterion.h>

#include "bench.h"

Test(pace, due_is_floor_of_rate_times_time)
{
    cr_assert_eq(bc_pace_due(2000, 0), 0);
    cr_assert_eq(bc_pace_due(2000, 499999), 0); /* 0.999 packet */
    cr_assert_eq(bc_pace_due(2000, 500000), 1); /* exactly 0.5 ms */
    cr_assert_eq(bc_pace_due(2000, 1000000000), 2000);
    cr_assert_eq(bc_pace_due(3, 999999999), 2);
    /* the largest rate over the longest run stays exact in 64 bits */
    cr_assert_eq(bc_pace_due(BC_MAX_RATE, (uint64_t)BC_MAX_DURATION * 1000000000u),
                 (uint64_t)BC_MAX_RATE * BC_MAX_DURATION);
}

Test(pace, due_is_monotonic)
{
    uint64_t prev = 0;

    for (uint64_t t = 0; t < 50000000; t += 12345) {
        uint64_t d = bc_pace_due(77777, t);

        cr_assert_geq(d, prev);
        prev = d;
    }
}

Test(pace, shares_sum_to_the_range_and_are_even)
{
    const unsigned n = 7;
    uint64_t per[7] = {0};

    /* irregular ticks over 1000 slots */
    for (uint64_t from = 0, to = 0; from < 1000; from = to) {
        uint64_t sum = 0;

        to = from + 1 + (from * 31) % 23;
        for (unsigned s = 0; s < n; s++) {
            uint64_t k = bc_pace_share(from, to, n, s);

            per[s] += k;
            sum += k;
        }
        cr_assert_eq(sum, to - from);
    }
    for (unsigned s = 1; s < n; s++) {
        cr_assert_leq(per[0] > per[s] ? per[0] - per[s] : per[s] - per[0], 1);
    }
}

Test(pace, share_matches_slot_owner)
{
    for (uint64_t from = 0; from < 40; from++) {
        for (uint64_t to = from; to < 60; to++) {
            for (unsigned s = 0; s < 5; s++) {
                uint64_t want = 0;

                for (uint64_t k = from; k < to; k++) {
                    want += k % 5 == s;
                }
                cr_assert_eq(bc_pace_share(from, to, 5, s), want, "[%lu,%lu) s=%u",
                             (unsigned long)from, (unsigned long)to, s);
            }
        }
    }
    cr_assert_eq(bc_pace_share(10, 5, 3, 0), 0);
    cr_assert_eq(bc_pace_share(0, 10, 0, 0), 0);
}

Test(pace, burst_is_ten_ms_but_at_least_one_per_sender)
{
    cr_assert_eq(bc_pace_burst(100000, 20), 1000);
    cr_assert_eq(bc_pace_burst(1000, 20), 20);
    cr_assert_eq(bc_pace_burst(1, 1), 1);
}
