/* Tests for turn/alloc.c: the allocation table (hashing, growth, removal,
 * sweep), permissions by IP and channel bindings (RFC 8656 9, 12) with an
 * injected clock. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "turn/alloc.h"

#define NOW 1000

static struct turn_alloc_table *table;

static void setup(void)
{
    cr_assert_eq(turn_alloc_table_new(&table), 0);
    cr_assert_eq(turn_alloc_table_count(table), 0);
}

static void teardown(void)
{
    turn_alloc_table_free(table);
    table = NULL;
}

TestSuite(alloc, .init = setup, .fini = teardown);

static union turn_addr addr(const char *text)
{
    union turn_addr a;

    memset(&a, 0, sizeof(a));
    cr_assert_eq(turn_addr_parse(&a, text, 0), 0, "bad test address %s", text);
    return a;
}

/* Client i: 203.0.113.(i / 250).(i % 250)-ish spread over IPs and ports. */
static struct turn_tuple tuple_n(unsigned i)
{
    struct turn_tuple t;
    char text[64];

    memset(&t, 0, sizeof(t));
    snprintf(text, sizeof(text), "203.0.%u.%u:%u", 113 + i / 250, i % 250, 40000 + i % 7);
    t.client = addr(text);
    t.server = addr("192.0.2.10:3478");
    t.transport = TURN_TRANSPORT_UDP;
    return t;
}

static struct turn_alloc *add(unsigned i)
{
    struct turn_tuple t = tuple_n(i);
    struct turn_alloc *a = turn_alloc_add(table, &t);

    cr_assert_not_null(a);
    cr_assert(turn_addr_equal(&a->tuple.client, &t.client));
    return a;
}

/* Binds number to peer (no relay peer). */
static int bind_chan(struct turn_alloc *a, uint16_t number, const union turn_addr *peer,
                     uint64_t now, unsigned max)
{
    struct turn_channel want = {.peer = *peer, .number = number};

    return turn_alloc_bind(a, &want, now, max);
}

/* ---- table ---- */

Test(alloc, empty_table_finds_nothing)
{
    struct turn_tuple t = tuple_n(0);

    cr_assert_null(turn_alloc_find(table, &t));
}

Test(alloc, table_grows_past_64_and_finds_all)
{
    enum { N = 300 };
    struct turn_alloc *allocs[N];
    struct turn_tuple t;

    for (unsigned i = 0; i < N; i++) {
        allocs[i] = add(i);
        cr_assert_eq(turn_alloc_table_count(table), i + 1);
    }
    for (unsigned i = 0; i < N; i++) {
        t = tuple_n(i);
        cr_assert_eq(turn_alloc_find(table, &t), allocs[i], "tuple %u after growth", i);
    }
    t = tuple_n(N);
    cr_assert_null(turn_alloc_find(table, &t));
}

Test(alloc, find_matches_whole_tuple)
{
    int conn;
    struct turn_tuple t = tuple_n(1);
    struct turn_alloc *a = add(1);
    struct turn_tuple other;

    cr_assert_eq(turn_alloc_find(table, &t), a);
    other = t;
    other.transport = TURN_TRANSPORT_TCP;
    cr_assert_null(turn_alloc_find(table, &other), "another transport");
    other = t;
    other.server = addr("192.0.2.11:3478");
    cr_assert_null(turn_alloc_find(table, &other), "another server address");
    other = t;
    turn_addr_set_port(&other.client, (uint16_t)(turn_addr_port(&t.client) + 1));
    cr_assert_null(turn_alloc_find(table, &other), "another client port");
    other = t;
    other.conn = &conn;
    cr_assert_null(turn_alloc_find(table, &other), "another connection");
}

Test(alloc, remove_unlinks_only_that_one)
{
    enum { N = 150 };
    struct turn_alloc *allocs[N];
    struct turn_tuple t;

    for (unsigned i = 0; i < N; i++) {
        allocs[i] = add(i);
    }
    for (unsigned i = 0; i < N; i += 2) {
        turn_alloc_remove(table, allocs[i]);
    }
    cr_assert_eq(turn_alloc_table_count(table), N / 2);
    for (unsigned i = 0; i < N; i++) {
        t = tuple_n(i);
        if (i % 2) {
            cr_assert_eq(turn_alloc_find(table, &t), allocs[i], "kept %u", i);
        } else {
            cr_assert_null(turn_alloc_find(table, &t), "removed %u", i);
        }
    }
    /* the rest come out too, head and tail of the list included */
    for (unsigned i = N - 1; i < N; i -= 2) {
        turn_alloc_remove(table, allocs[i]);
    }
    cr_assert_eq(turn_alloc_table_count(table), 0);
    allocs[0] = add(0);
    t = tuple_n(0);
    cr_assert_eq(turn_alloc_find(table, &t), allocs[0], "the table works after emptying");
}

struct sweep_log {
    unsigned calls;
    struct turn_alloc *seen[8];
};

static void expired_cb(struct turn_alloc *a, void *arg)
{
    struct sweep_log *log = arg;

    cr_assert_lt(log->calls, 8);
    log->seen[log->calls++] = a;
    turn_alloc_remove(table, a);
}

Test(alloc, sweep_ends_expired_allocations)
{
    struct turn_alloc *a = add(0), *b = add(1), *c = add(2);
    struct sweep_log log = {0};
    struct turn_alloc_counts counts;
    struct turn_tuple t;

    a->expires = NOW + 10;
    b->expires = NOW + 20;
    c->expires = NOW + 30;
    turn_alloc_sweep(table, NOW + 9, expired_cb, &log, &counts);
    cr_assert_eq(log.calls, 0);
    turn_alloc_sweep(table, NOW + 20, expired_cb, &log, &counts);
    cr_assert_eq(log.calls, 2, "expiry at exactly now counts");
    cr_assert((log.seen[0] == a && log.seen[1] == b) || (log.seen[0] == b && log.seen[1] == a));
    cr_assert_eq(turn_alloc_table_count(table), 1);
    t = tuple_n(2);
    cr_assert_eq(turn_alloc_find(table, &t), c);
    turn_alloc_sweep(table, UINT64_MAX, expired_cb, &log, &counts);
    cr_assert_eq(log.calls, 3);
    cr_assert_eq(turn_alloc_table_count(table), 0);
}

Test(alloc, sweep_drops_expired_permissions_and_channels)
{
    struct turn_alloc *a = add(0);
    struct sweep_log log = {0};
    struct turn_alloc_counts counts;
    union turn_addr p1 = addr("8.8.8.8:1"), p2 = addr("8.8.4.4:1");

    a->expires = NOW + 10000;
    cr_assert_eq(turn_alloc_permit(a, &p1, 1, NOW, 8), 0);
    cr_assert_eq(turn_alloc_permit(a, &p2, 1, NOW + 100, 8), 0);
    cr_assert_eq(bind_chan(a, 0x4000, &p1, NOW, 8), 0);
    turn_alloc_sweep(table, NOW + TURN_PERMISSION_LIFETIME, expired_cb, &log, &counts);
    cr_assert_eq(log.calls, 0);
    cr_assert_eq(a->n_perms, 1);
    cr_assert(turn_addr_ip_equal(&a->perms[0].ip, &p2));
    cr_assert_eq(a->n_chans, 1);
    cr_assert_eq(counts.permissions, 1);
    cr_assert_eq(counts.channels, 1);
    turn_alloc_sweep(table, NOW + TURN_CHANNEL_LIFETIME, expired_cb, &log, &counts);
    cr_assert_eq(a->n_perms, 0);
    cr_assert_eq(a->n_chans, 1, "an expired channel stays reserved");
    cr_assert_eq(counts.permissions, 0);
    cr_assert_eq(counts.channels, 0, "a reserved channel is not counted as live");
    turn_alloc_sweep(table, NOW + TURN_CHANNEL_LIFETIME + TURN_CHANNEL_RESERVE, expired_cb, &log,
                     &counts);
    cr_assert_eq(a->n_chans, 0);
}

/* ---- permissions ---- */

Test(alloc, permission_is_by_ip_ignoring_port)
{
    struct turn_alloc *a = add(0);
    union turn_addr peer = addr("8.8.8.8:5000"), other_port = addr("8.8.8.8:6000");
    union turn_addr other_ip = addr("8.8.4.4:5000"), v6 = addr("[2001:4860::8888]:5000");

    cr_assert_not(turn_alloc_permitted(a, &peer, NOW));
    cr_assert_eq(turn_alloc_permit(a, &peer, 1, NOW, 8), 0);
    cr_assert(turn_alloc_permitted(a, &peer, NOW));
    cr_assert(turn_alloc_permitted(a, &other_port, NOW));
    cr_assert_not(turn_alloc_permitted(a, &other_ip, NOW));
    cr_assert_not(turn_alloc_permitted(a, &v6, NOW));
    cr_assert_eq(turn_alloc_permit(a, &other_port, 1, NOW, 8), 0);
    cr_assert_eq(a->n_perms, 1, "one permission per IP");
    cr_assert_eq(turn_addr_port(&a->perms[0].ip), 0);
}

Test(alloc, permission_lasts_300s_and_refreshes)
{
    struct turn_alloc *a = add(0);
    union turn_addr peer = addr("8.8.8.8:5000");

    cr_assert_eq(turn_alloc_permit(a, &peer, 1, NOW, 8), 0);
    cr_assert(turn_alloc_permitted(a, &peer, NOW + TURN_PERMISSION_LIFETIME - 1));
    cr_assert_not(turn_alloc_permitted(a, &peer, NOW + TURN_PERMISSION_LIFETIME));
    cr_assert_eq(turn_alloc_permit(a, &peer, 1, NOW + 200, 8), 0);
    cr_assert(turn_alloc_permitted(a, &peer, NOW + 200 + TURN_PERMISSION_LIFETIME - 1));
    cr_assert_not(turn_alloc_permitted(a, &peer, NOW + 200 + TURN_PERMISSION_LIFETIME));
}

Test(alloc, permission_max_is_enospc)
{
    struct turn_alloc *a = add(0);
    char text[32];
    union turn_addr peer;

    for (unsigned i = 0; i < 5; i++) {
        snprintf(text, sizeof(text), "8.8.8.%u:1", i + 1);
        peer = addr(text);
        cr_assert_eq(turn_alloc_permit(a, &peer, 1, NOW, 5), 0, "permission %u", i);
    }
    peer = addr("8.8.8.100:1");
    cr_assert_eq(turn_alloc_permit(a, &peer, 1, NOW, 5), -ENOSPC);
    cr_assert_not(turn_alloc_permitted(a, &peer, NOW));
    cr_assert_eq(a->n_perms, 5);
    peer = addr("8.8.8.1:9");
    cr_assert_eq(turn_alloc_permit(a, &peer, 1, NOW + 100, 5), 0, "a refresh needs no room");
    /* once the others expire, their room is reused */
    peer = addr("8.8.8.100:1");
    cr_assert_eq(turn_alloc_permit(a, &peer, 1, NOW + TURN_PERMISSION_LIFETIME, 5), 0);
    cr_assert_eq(a->n_perms, 2);
}

/* ---- channels ---- */

Test(alloc, bind_and_look_up)
{
    struct turn_alloc *a = add(0);
    union turn_addr peer = addr("8.8.8.8:5000"), other_port = addr("8.8.8.8:5001");
    const struct turn_channel *c;

    cr_assert_eq(bind_chan(a, 0x4000, &peer, NOW, 8), 0);
    c = turn_alloc_channel(a, 0x4000, NOW);
    cr_assert_not_null(c);
    cr_assert(turn_addr_equal(&c->peer, &peer));
    cr_assert_eq(c->expires, NOW + TURN_CHANNEL_LIFETIME);
    cr_assert_eq(turn_alloc_channel_to(a, &peer, NOW), c);
    cr_assert_null(turn_alloc_channel(a, 0x4001, NOW));
    cr_assert_null(turn_alloc_channel_to(a, &other_port, NOW), "a channel is bound to a port");
    cr_assert_not(turn_alloc_permitted(a, &peer, NOW), "binding alone installs no permission");
}

Test(alloc, bind_rules)
{
    struct turn_alloc *a = add(0);
    union turn_addr p1 = addr("8.8.8.8:5000"), p2 = addr("8.8.4.4:5000");

    cr_assert_eq(bind_chan(a, 0x4000, &p1, NOW, 8), 0);
    cr_assert_eq(bind_chan(a, 0x4000, &p2, NOW, 8), -EEXIST, "number bound to another peer");
    cr_assert_eq(bind_chan(a, 0x4001, &p1, NOW, 8), -EEXIST, "peer bound to another number");
    cr_assert_eq(bind_chan(a, 0x4001, &p2, NOW, 8), 0);
    cr_assert_eq(a->n_chans, 2);
    /* rebinding the same pair refreshes it */
    cr_assert_eq(bind_chan(a, 0x4000, &p1, NOW + 500, 8), 0);
    cr_assert_eq(a->n_chans, 2);
    cr_assert_not_null(turn_alloc_channel(a, 0x4000, NOW + 500 + TURN_CHANNEL_LIFETIME - 1));
    cr_assert_null(turn_alloc_channel(a, 0x4001, NOW + TURN_CHANNEL_LIFETIME));
    cr_assert_null(turn_alloc_channel(a, 0x4000, NOW + 500 + TURN_CHANNEL_LIFETIME));
}

Test(alloc, expired_channel_frees_number_and_peer_after_reservation)
{
    struct turn_alloc *a = add(0);
    union turn_addr p1 = addr("8.8.8.8:5000"), p2 = addr("8.8.4.4:5000");
    uint64_t later = NOW + TURN_CHANNEL_LIFETIME + TURN_CHANNEL_RESERVE;

    cr_assert_eq(bind_chan(a, 0x4000, &p1, NOW, 8), 0);
    cr_assert_eq(bind_chan(a, 0x4000, &p2, later, 8), 0);
    cr_assert_eq(bind_chan(a, 0x4001, &p1, later, 8), 0);
    cr_assert_eq(a->n_chans, 2);
    cr_assert(turn_addr_equal(&turn_alloc_channel(a, 0x4000, later)->peer, &p2));
    cr_assert_eq(turn_alloc_channel_to(a, &p1, later)->number, 0x4001);
}

/* RFC 8656 12: for 5 minutes after a binding expires, neither its number
 * nor its peer may be bound to anything else; the same pair may come back. */
Test(alloc, expired_channel_stays_reserved_for_300s)
{
    struct turn_alloc *a = add(0);
    union turn_addr p1 = addr("8.8.8.8:5000"), p2 = addr("8.8.4.4:5000");
    union turn_addr p3 = addr("8.8.8.8:5001"), p4 = addr("8.8.4.4:6000");
    uint64_t expiry = NOW + TURN_CHANNEL_LIFETIME;

    cr_assert_eq(bind_chan(a, 0x4000, &p1, NOW, 8), 0);
    cr_assert_eq(bind_chan(a, 0x4004, &p4, NOW, 8), 0);
    for (uint64_t t = expiry; t < expiry + TURN_CHANNEL_RESERVE; t += 60) {
        cr_assert_null(turn_alloc_channel(a, 0x4000, t), "expired: no traffic");
        cr_assert_eq(bind_chan(a, 0x4000, &p2, t, 8), -EEXIST, "number reserved at +%llu",
                     (unsigned long long)(t - expiry));
        cr_assert_eq(bind_chan(a, 0x4001, &p1, t, 8), -EEXIST, "peer reserved at +%llu",
                     (unsigned long long)(t - expiry));
    }
    cr_assert_eq(bind_chan(a, 0x4000, &p2, expiry + TURN_CHANNEL_RESERVE - 1, 8), -EEXIST);
    /* another port of the same IP is another peer */
    cr_assert_eq(bind_chan(a, 0x4002, &p3, expiry + 10, 8), 0);
    /* the same pair may be bound again at once, in the same entry */
    cr_assert_eq(bind_chan(a, 0x4000, &p1, expiry + 10, 8), 0);
    cr_assert_eq(a->n_chans, 3);
    cr_assert_not_null(turn_alloc_channel(a, 0x4000, expiry + 10));
    /* once the reservation has run out, number and peer are free */
    cr_assert_eq(bind_chan(a, 0x4005, &p4, expiry + TURN_CHANNEL_RESERVE - 1, 8), -EEXIST);
    cr_assert_eq(bind_chan(a, 0x4005, &p4, expiry + TURN_CHANNEL_RESERVE, 8), 0);
    cr_assert_eq(bind_chan(a, 0x4004, &p2, expiry + TURN_CHANNEL_RESERVE, 8), 0);
}

/* Reserved entries take no live slot: a client at max live channels whose
 * channels expire can bind max new ones at once. */
Test(alloc, reserved_channels_do_not_count_against_max)
{
    struct turn_alloc *a = add(0);
    char text[32];
    union turn_addr peer;
    uint64_t later = NOW + TURN_CHANNEL_LIFETIME;

    for (unsigned i = 0; i < 3; i++) {
        snprintf(text, sizeof(text), "8.8.8.%u:1", i + 1);
        peer = addr(text);
        cr_assert_eq(bind_chan(a, (uint16_t)(0x4000 + i), &peer, NOW, 3), 0);
    }
    for (unsigned i = 0; i < 3; i++) {
        snprintf(text, sizeof(text), "8.8.9.%u:1", i + 1);
        peer = addr(text);
        cr_assert_eq(bind_chan(a, (uint16_t)(0x4010 + i), &peer, later, 3), 0, "new %u", i);
    }
    cr_assert_eq(a->n_chans, 6, "3 live, 3 reserved");
    peer = addr("8.8.9.100:1");
    cr_assert_eq(bind_chan(a, 0x4020, &peer, later, 3), -ENOSPC, "live ones stay within max");
}

Test(alloc, bind_max_is_enospc)
{
    struct turn_alloc *a = add(0);
    char text[32];
    union turn_addr peer;

    for (unsigned i = 0; i < 3; i++) {
        snprintf(text, sizeof(text), "8.8.8.%u:1", i + 1);
        peer = addr(text);
        cr_assert_eq(bind_chan(a, (uint16_t)(0x4000 + i), &peer, NOW, 3), 0);
    }
    peer = addr("8.8.8.100:1");
    cr_assert_eq(bind_chan(a, 0x4010, &peer, NOW, 3), -ENOSPC);
    cr_assert_null(turn_alloc_channel(a, 0x4010, NOW));
    peer = addr("8.8.8.1:1");
    cr_assert_eq(bind_chan(a, 0x4000, &peer, NOW + 1, 3), 0, "a refresh needs no room");
    cr_assert_eq(a->n_chans, 3);
}

Test(alloc, ipv6_peers)
{
    struct turn_alloc *a = add(0);
    union turn_addr p = addr("[2001:4860::8888]:5000"), q = addr("[2001:4860::8888]:7000");
    union turn_addr r = addr("[2001:4860::8844]:5000");

    cr_assert_eq(turn_alloc_permit(a, &p, 1, NOW, 4), 0);
    cr_assert(turn_alloc_permitted(a, &q, NOW));
    cr_assert_not(turn_alloc_permitted(a, &r, NOW));
    cr_assert_eq(bind_chan(a, 0x4abc, &p, NOW, 4), 0);
    cr_assert_null(turn_alloc_channel_to(a, &q, NOW));
    cr_assert_eq(turn_alloc_channel_to(a, &p, NOW)->number, 0x4abc);
}
