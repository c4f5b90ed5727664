/* Tests for turn/ratelimit: token buckets per source prefix, shared by
 * workers, that a prefix refills by authenticating. Injected clock. */
#include <criterion/criterion.h>

#include <stdio.h>

#include "server_harness.h"
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

/* Takes tokens until the bucket says no (at most limit); returns how many. */
static int drain(struct turn_ratelimit *rl, const union turn_addr *a, uint64_t now, int limit)
{
    int n = 0;

    while (n < limit && turn_ratelimit_allow(rl, a, now)) {
        n++;
    }
    return n;
}

Test(ratelimit, base_rate_holds_for_a_prefix_that_never_authenticates)
{
    struct turn_ratelimit *rl;
    union turn_addr a = addr("198.51.100.7:4000");
    int total = 0;

    cr_assert_eq(turn_ratelimit_new(&rl, 10), 0);
    for (uint64_t now = 100; now < 110; now++) {
        total += drain(rl, &a, now, 1000);
    }
    cr_assert_eq(total, 20 + 9 * 10, "one burst, then the rate");
    turn_ratelimit_free(rl);
}

Test(ratelimit, credits_raise_the_budget_up_to_the_cap)
{
    struct turn_ratelimit *rl;
    union turn_addr a = addr("198.51.100.7:4000"), same24 = addr("198.51.100.99:1");
    union turn_addr other = addr("198.51.101.7:4000");
    const int burst = 20, cap = burst * TURN_RATELIMIT_EARN_FACTOR;

    cr_assert_eq(turn_ratelimit_new(&rl, 10), 0);
    cr_assert_eq(drain(rl, &a, 100, 1000), burst);
    for (int i = 0; i < 5; i++) {
        turn_ratelimit_credit(rl, &a, 100);
    }
    cr_assert_eq(drain(rl, &same24, 100, 1000), 5 * TURN_RATELIMIT_CREDIT,
                 "the prefix earned, whichever address of it spends");
    cr_assert_eq(drain(rl, &other, 100, 1000), burst, "another prefix earned nothing");
    /* the cap: credits beyond it are lost */
    for (int i = 0; i < cap; i++) {
        turn_ratelimit_credit(rl, &a, 100);
    }
    cr_assert_eq(drain(rl, &a, 100, 10 * cap), cap);
    /* earned tokens are not refilled: back to the burst a second later */
    cr_assert_eq(drain(rl, &a, 101, 1000), 10);
    cr_assert_eq(drain(rl, &a, 105, 1000), burst);
    turn_ratelimit_free(rl);
}

Test(ratelimit, earned_tokens_survive_a_refill)
{
    struct turn_ratelimit *rl;
    union turn_addr a = addr("[2001:db8:5::1]:7");

    cr_assert_eq(turn_ratelimit_new(&rl, 1), 0);
    for (int i = 0; i < 10; i++) {
        turn_ratelimit_credit(rl, &a, 50);
    }
    cr_assert_eq(drain(rl, &a, 60, 1000), 2 + 10 * TURN_RATELIMIT_CREDIT);
    turn_ratelimit_free(rl);
}

Test(ratelimit, a_worker_whose_clock_is_behind_refills_nothing)
{
    struct turn_ratelimit *rl;
    union turn_addr a = addr("198.51.100.7:4000");

    cr_assert_eq(turn_ratelimit_new(&rl, 5), 0);
    cr_assert_eq(drain(rl, &a, 200, 1000), 10);
    cr_assert_eq(drain(rl, &a, 199, 1000), 0, "one second behind: no new tokens");
    cr_assert_eq(drain(rl, &a, 201, 1000), 5);
    turn_ratelimit_free(rl);
}

Test(ratelimit, set_rate_applies_to_existing_buckets)
{
    struct turn_ratelimit *rl;
    union turn_addr a = addr("198.51.100.7:4000");

    cr_assert_eq(turn_ratelimit_new(&rl, 5), 0);
    cr_assert_eq(drain(rl, &a, 10, 1000), 10);
    turn_ratelimit_set_rate(rl, 50);
    cr_assert_eq(drain(rl, &a, 11, 1000), 50);
    turn_ratelimit_set_rate(rl, 0);
    cr_assert_eq(drain(rl, &a, 11, 1000), 1000, "0 turns it off");
    turn_ratelimit_free(rl);
}

/* A flood forged from many prefixes: each prefix has its own burst, but
 * together they get no more than the total's burst plus its rate. */
Test(ratelimit, total_caps_base_tokens_of_all_prefixes)
{
    struct turn_ratelimit *rl;
    int answered = 0;

    cr_assert_eq(turn_ratelimit_new(&rl, 10), 0);
    turn_ratelimit_set_total(rl, 50); /* bursts of 100 */
    for (uint64_t now = 100; now < 103; now++) {
        for (int i = 0; i < 1000; i++) {
            char text[32];
            snprintf(text, sizeof(text), "10.%d.%d.1:5000", i / 250, i % 250);
            union turn_addr a = addr(text);
            answered += turn_ratelimit_allow(rl, &a, now);
        }
    }
    cr_assert_eq(answered, 100 + 2 * 50, "one total burst, then its rate");
    turn_ratelimit_set_total(rl, 0);
    union turn_addr fresh = addr("192.0.2.1:1");
    cr_assert_eq(drain(rl, &fresh, 103, 1000), 20, "0 lifts the cap: the prefix's burst");
    turn_ratelimit_free(rl);
}

/* What a prefix earned by logging in is not capped by the total, and a
 * prefix refused by the total keeps its own tokens. */
Test(ratelimit, earned_tokens_bypass_the_total)
{
    struct turn_ratelimit *rl;
    union turn_addr nat = addr("198.51.100.7:4000"), other = addr("203.0.113.9:1");

    cr_assert_eq(turn_ratelimit_new(&rl, 10), 0);
    turn_ratelimit_set_total(rl, 1); /* bursts of 2 */
    cr_assert_eq(drain(rl, &other, 100, 1000), 2, "the total's burst");
    for (int i = 0; i < 50; i++) {
        turn_ratelimit_credit(rl, &nat, 100);
    }
    /* 20 base + 100 earned: the earned ones pass, the base ones meet the
     * empty total */
    cr_assert_eq(drain(rl, &nat, 100, 1000), 100);
    cr_assert_eq(drain(rl, &nat, 101, 1000), 1, "then one a second, from the total");
    turn_ratelimit_set_total(rl, 0);
    cr_assert_eq(drain(rl, &nat, 101, 1000), 20 - 1, "its base tokens were given back");
    turn_ratelimit_free(rl);
}

/* Two workers' servers with one limiter: together one burst plus the rate,
 * not one each. */
Test(ratelimit, two_servers_share_one_limit, .init = h_setup, .fini = h_teardown)
{
    struct turn_server *srv2;
    struct turn_server *servers[2];
    uint8_t reply_buf[TURN_REPLY_MAX];
    int answered = 0;

    h_set_unauth_rate(5); /* bursts of 10 */
    cr_assert_eq(turn_server_new(&srv2, &H.cfg), 0);
    servers[0] = H.srv;
    servers[1] = srv2;
    for (int sec = 0; sec < 3; sec++) {
        for (int i = 0; i < 200; i++) {
            char client[40];
            struct turn_tuple t;
            struct turn_reply reply = {.buf = reply_buf};
            struct turn_forward fwd;
            struct h_msg m;

            snprintf(client, sizeof(client), "203.0.113.%d:%d", i % 250, 1024 + i);
            t = h_tuple(client, TURN_TRANSPORT_UDP);
            h_req(&m, i % 2 ? STUN_BINDING : TURN_ALLOCATE);
            h_add_transport(&m, H_PROTO_UDP);
            h_finish(&m);
            answered += turn_server_on_client(servers[i % 2], &t, m.buf, m.len, H.now, &reply,
                                              &fwd) == TURN_REPLY;
        }
        h_advance(1);
    }
    cr_assert_eq(answered, 10 + 2 * 5, "one burst plus two seconds of rate, over both");
    cr_assert_eq(turn_server_stats(H.srv)->rate_limited + turn_server_stats(srv2)->rate_limited,
                 600 - 20);
    turn_server_free(srv2);
}
