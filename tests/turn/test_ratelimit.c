/* Tests for turn/ratelimit: token buckets per source prefix. */
#include <criterion/criterion.h>

#include <stdio.h>

#include "turn/ratelimit.h"

static union turn_addr addr(const char *text)
{
    union turn_addr a;
    cr_assert_eq(turn_addr_parse(&a, text, 0), 0);
    return a;
}

Test(ratelimit, burst_then_refill_per_second)
{
    struct turn_ratelimit *rl;
    union turn_addr a = addr("198.51.100.7:4000");

    cr_assert_eq(turn_ratelimit_new(&rl, 5), 0);
    for (int i = 0; i < 10; i++) {
        cr_assert(turn_ratelimit_allow(rl, &a, 100), "burst answer %d", i);
    }
    cr_assert_not(turn_ratelimit_allow(rl, &a, 100), "a burst is twice the rate");
    cr_assert(turn_ratelimit_allow(rl, &a, 101), "one second refills rate tokens");
    for (int i = 0; i < 4; i++) {
        cr_assert(turn_ratelimit_allow(rl, &a, 101));
    }
    cr_assert_not(turn_ratelimit_allow(rl, &a, 101));
    turn_ratelimit_free(rl);
}

Test(ratelimit, a_prefix_shares_one_bucket)
{
    struct turn_ratelimit *rl;
    union turn_addr a = addr("198.51.100.7:1"), b = addr("198.51.100.200:2");
    union turn_addr c = addr("2001:db8:1:2:3::1"), d = addr("2001:db8:1:ffff::9");
    int other = 0;

    cr_assert_eq(turn_ratelimit_new(&rl, 1), 0);
    cr_assert(turn_ratelimit_allow(rl, &a, 7));
    cr_assert(turn_ratelimit_allow(rl, &b, 7));
    cr_assert_not(turn_ratelimit_allow(rl, &a, 7), "the same /24, port ignored");
    cr_assert(turn_ratelimit_allow(rl, &c, 7));
    cr_assert(turn_ratelimit_allow(rl, &d, 7));
    cr_assert_not(turn_ratelimit_allow(rl, &c, 7), "the same /48");
    /* other prefixes have their own buckets (bar a rare keyed collision) */
    for (int i = 1; i <= 20; i++) {
        char text[32];
        snprintf(text, sizeof(text), "203.0.%d.1", i);
        union turn_addr x = addr(text);
        other += turn_ratelimit_allow(rl, &x, 7);
    }
    cr_assert_geq(other, 19);
    turn_ratelimit_free(rl);
}

Test(ratelimit, zero_rate_is_off)
{
    struct turn_ratelimit *rl;
    union turn_addr a = addr("198.51.100.7:1");

    cr_assert_eq(turn_ratelimit_new(&rl, 0), 0);
    for (int i = 0; i < 1000; i++) {
        cr_assert(turn_ratelimit_allow(rl, &a, 1));
    }
    turn_ratelimit_free(rl);
}

Test(ratelimit, set_rate_lowers_full_buckets_to_the_new_burst)
{
    struct turn_ratelimit *rl;
    union turn_addr a = addr("198.51.100.7:4000");
    int allowed = 0;

    cr_assert_eq(turn_ratelimit_new(&rl, 100), 0);
    cr_assert(turn_ratelimit_allow(rl, &a, 50), "a full bucket of 200");
    turn_ratelimit_set_rate(rl, 1);
    for (int i = 0; i < 10; i++) {
        allowed += turn_ratelimit_allow(rl, &a, 50);
    }
    cr_assert_eq(allowed, 2, "what is left is cut to the new burst of 2");
    cr_assert(turn_ratelimit_allow(rl, &a, 51), "then one a second");
    cr_assert_not(turn_ratelimit_allow(rl, &a, 51));
    turn_ratelimit_set_rate(rl, 0);
    cr_assert(turn_ratelimit_allow(rl, &a, 51), "rate 0 turns it off");
    turn_ratelimit_free(rl);
}
