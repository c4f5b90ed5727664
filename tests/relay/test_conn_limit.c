/* Tests for relay/conn_limit: the total and per-address caps on TCP/TLS
 * connections, release, IPv6 counted per /64, the port ignored, caps
 * changed by a reload, a table of more addresses than slots, and takes
 * and releases from several threads never passing a cap. */
#include <criterion/criterion.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "relay/conn_limit.h"

static struct conn_limit *cl;

static void teardown(void)
{
    conn_limit_free(cl);
    cl = NULL;
}

TestSuite(conn_limit, .fini = teardown);

static union turn_addr addr(const char *text)
{
    union turn_addr a;
    cr_assert_eq(turn_addr_parse(&a, text, 40000), 0, "%s", text);
    return a;
}

/* The i-th of many IPv4 addresses (10.0.0.0/8), on port 40000 + i % 1000. */
static union turn_addr nth(unsigned i)
{
    char text[32];
    snprintf(text, sizeof(text), "10.%u.%u.%u:%u", (i >> 16) & 255, (i >> 8) & 255, i & 255,
             40000 + i % 1000);
    return addr(text);
}

/* Per-address counts live in hashed slots that addresses may share (the
 * header says so): picks an address whose slot is neither avoid nor
 * avoid2, by taking and releasing one connection for each candidate (the
 * total must have room for one more). Writes its slot to *slot_out. */
static union turn_addr other_slot2(int avoid, int avoid2, unsigned start, int *slot_out)
{
    for (unsigned i = start; i < start + 64; i++) {
        union turn_addr a = nth(i);
        int slot = conn_limit_take(cl, &a);
        cr_assert_geq(slot, 0);
        conn_limit_release(cl, slot);
        if (slot != avoid && slot != avoid2) {
            *slot_out = slot;
            return a;
        }
    }
    cr_assert_fail("64 addresses in one slot of 16384");
    return nth(0);
}

static union turn_addr other_slot(int avoid, unsigned start)
{
    int slot;
    return other_slot2(avoid, -1, start, &slot);
}

Test(conn_limit, per_ip_cap_refuses_the_next_and_release_makes_room)
{
    union turn_addr a = addr("198.51.100.1");
    int slots[3];

    cr_assert_eq(conn_limit_new(&cl, 100, 3), 0);
    for (int i = 0; i < 3; i++) {
        turn_addr_set_port(&a, (uint16_t)(40000 + i)); /* a client's ports are one address */
        slots[i] = conn_limit_take(cl, &a);
        cr_assert_geq(slots[i], 0, "connection %d", i);
        cr_assert_eq(slots[i], slots[0], "one address, one slot");
    }
    cr_assert_eq(conn_limit_take(cl, &a), -EMFILE);
    cr_assert_eq(conn_limit_take(cl, &a), -EMFILE, "a refusal does not count");

    conn_limit_release(cl, slots[1]);
    int again = conn_limit_take(cl, &a);
    cr_assert_eq(again, slots[0]);
    cr_assert_eq(conn_limit_take(cl, &a), -EMFILE);
    for (int i = 0; i < 3; i++) {
        conn_limit_release(cl, slots[0]);
    }
    for (int i = 0; i < 3; i++) {
        cr_assert_geq(conn_limit_take(cl, &a), 0, "all released: %d", i);
    }
}

Test(conn_limit, another_address_has_its_own_count)
{
    union turn_addr a = addr("198.51.100.1");
    int sa;

    cr_assert_eq(conn_limit_new(&cl, 100, 1), 0);
    sa = conn_limit_take(cl, &a);
    cr_assert_geq(sa, 0);
    cr_assert_eq(conn_limit_take(cl, &a), -EMFILE);
    union turn_addr b = other_slot(sa, 0);
    cr_assert_geq(conn_limit_take(cl, &b), 0, "a's cap does not hold b back");
    cr_assert_eq(conn_limit_take(cl, &b), -EMFILE);
}

Test(conn_limit, total_cap_across_addresses)
{
    int slots[5];

    cr_assert_eq(conn_limit_new(&cl, 5, 100), 0);
    for (unsigned i = 0; i < 5; i++) {
        union turn_addr a = nth(i);
        slots[i] = conn_limit_take(cl, &a);
        cr_assert_geq(slots[i], 0, "connection %u", i);
    }
    union turn_addr sixth = nth(5);
    cr_assert_eq(conn_limit_take(cl, &sixth), -EMFILE);
    conn_limit_release(cl, slots[2]);
    cr_assert_geq(conn_limit_take(cl, &sixth), 0, "a release makes room for anyone");
    cr_assert_eq(conn_limit_take(cl, &sixth), -EMFILE);
}

/* A refusal by the per-address cap must give back the total it counted:
 * otherwise every refused connection would eat into max_total. */
Test(conn_limit, per_ip_refusal_does_not_consume_the_total)
{
    union turn_addr a = addr("198.51.100.1");
    int sa;

    cr_assert_eq(conn_limit_new(&cl, 2, 1), 0);
    sa = conn_limit_take(cl, &a);
    cr_assert_geq(sa, 0);
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(conn_limit_take(cl, &a), -EMFILE);
    }
    int sb, sc;
    union turn_addr b = other_slot2(sa, -1, 0, &sb);
    union turn_addr c = other_slot2(sa, sb, 100, &sc);
    cr_assert_eq(conn_limit_take(cl, &b), sb, "the total still has room for a second connection");
    cr_assert_eq(conn_limit_take(cl, &c), -EMFILE, "total of 2 reached");
    conn_limit_release(cl, sa);
    cr_assert_geq(conn_limit_take(cl, &a), 0);
}

Test(conn_limit, ipv6_counts_per_64)
{
    union turn_addr a = addr("[2001:db8:1:2::1]:40000");
    union turn_addr same64 = addr("[2001:db8:1:2:ffff:eeee:dddd:cccc]:50000");
    int sa;

    cr_assert_eq(conn_limit_new(&cl, 100, 2), 0);
    sa = conn_limit_take(cl, &a);
    cr_assert_geq(sa, 0);
    cr_assert_eq(conn_limit_take(cl, &same64), sa, "one /64, one count");
    cr_assert_eq(conn_limit_take(cl, &a), -EMFILE);
    cr_assert_eq(conn_limit_take(cl, &same64), -EMFILE);

    /* another /64 of the same /48 counts apart (unless hashed into the
     * same slot: then try the next /64) */
    for (unsigned i = 3; i < 67; i++) {
        char text[64];
        snprintf(text, sizeof(text), "[2001:db8:1:%x::1]:40000", i);
        union turn_addr b = addr(text);
        int sb = conn_limit_take(cl, &b);
        if (sb == -EMFILE) {
            continue; /* shares a's slot */
        }
        cr_assert_neq(sb, sa);
        cr_assert_geq(conn_limit_take(cl, &b), 0);
        return;
    }
    cr_assert_fail("no other /64 got a slot of its own");
}

Test(conn_limit, ipv4_and_ipv6_are_different_addresses)
{
    union turn_addr a4 = addr("198.51.100.1"), a6 = addr("[2001:db8::1]:40000");
    int s4, s6;

    cr_assert_eq(conn_limit_new(&cl, 100, 5), 0);
    s4 = conn_limit_take(cl, &a4);
    s6 = conn_limit_take(cl, &a6);
    cr_assert_geq(s4, 0);
    cr_assert_geq(s6, 0);
    conn_limit_release(cl, s4);
    conn_limit_release(cl, s6);
}

Test(conn_limit, lowered_caps_keep_what_is_open_and_refuse_new)
{
    union turn_addr a = addr("198.51.100.1");
    int slots[4];

    cr_assert_eq(conn_limit_new(&cl, 100, 4), 0);
    union turn_addr b = other_slot(-1, 0);
    for (int i = 0; i < 4; i++) {
        slots[i] = conn_limit_take(cl, &a);
        cr_assert_geq(slots[i], 0);
    }
    conn_limit_set(cl, 100, 2);
    cr_assert_eq(conn_limit_take(cl, &a), -EMFILE, "4 open, cap now 2");
    conn_limit_release(cl, slots[0]);
    conn_limit_release(cl, slots[1]);
    cr_assert_eq(conn_limit_take(cl, &a), -EMFILE, "2 open, cap 2");
    conn_limit_release(cl, slots[2]);
    cr_assert_geq(conn_limit_take(cl, &a), 0, "1 open, cap 2");

    conn_limit_set(cl, 2, 100); /* now the total binds: 2 open */
    cr_assert_eq(conn_limit_take(cl, &b), -EMFILE);
    conn_limit_set(cl, 3, 100);
    cr_assert_geq(conn_limit_take(cl, &b), 0, "raised total");
}

/* More addresses than slots: the table never fills up or refuses for
 * want of room; shared slots only make the per-address cap stricter, and
 * releasing everything leaves every count at zero. */
#define MANY 40000

Test(conn_limit, more_addresses_than_slots)
{
    static int slots[MANY];
    int max_slot = -1;

    cr_assert_eq(conn_limit_new(&cl, MANY, MANY), 0);
    for (unsigned i = 0; i < MANY; i++) {
        union turn_addr a = nth(i);
        slots[i] = conn_limit_take(cl, &a);
        cr_assert_geq(slots[i], 0, "connection %u", i);
        max_slot = slots[i] > max_slot ? slots[i] : max_slot;
    }
    cr_assert_lt(max_slot, 16384, "slots index a table of 16384");
    union turn_addr over = nth(MANY);
    cr_assert_eq(conn_limit_take(cl, &over), -EMFILE, "total reached");
    for (unsigned i = 0; i < MANY; i++) {
        conn_limit_release(cl, slots[i]);
    }
    /* per-address cap 1: a slot left counting would refuse its address */
    conn_limit_set(cl, MANY, 1);
    for (unsigned i = 0; i < 100; i++) {
        union turn_addr a = nth(i * 397);
        int s = conn_limit_take(cl, &a);
        cr_assert_geq(s, 0, "address %u after all were released", i * 397);
        conn_limit_release(cl, s);
    }
}

/* Workers take and release at once: the caps hold under contention (held
 * never passes max_per_ip) and the counts come back to zero. */
#define THREADS 4
#define CAP 3
#define ROUNDS 20000

static struct {
    union turn_addr a;
    atomic_uint held, peak, taken;
} race;

static void *racer(void *arg)
{
    (void)arg;
    for (unsigned r = 0; r < ROUNDS; r++) {
        int s = conn_limit_take(cl, &race.a);
        if (s < 0) {
            continue;
        }
        unsigned now = atomic_fetch_add(&race.held, 1) + 1;
        unsigned peak = atomic_load(&race.peak);
        while (now > peak && !atomic_compare_exchange_weak(&race.peak, &peak, now)) {
        }
        atomic_fetch_add(&race.taken, 1);
        atomic_fetch_sub(&race.held, 1);
        conn_limit_release(cl, s);
    }
    return NULL;
}

Test(conn_limit, concurrent_takes_never_pass_the_cap)
{
    pthread_t th[THREADS];

    cr_assert_eq(conn_limit_new(&cl, 1000, CAP), 0);
    race.a = addr("198.51.100.9");
    for (unsigned t = 0; t < THREADS; t++) {
        cr_assert_eq(pthread_create(&th[t], NULL, racer, NULL), 0);
    }
    for (unsigned t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
    }
    cr_assert_leq(atomic_load(&race.peak), CAP);
    cr_assert_gt(atomic_load(&race.taken), 0);
    for (int i = 0; i < CAP; i++) {
        cr_assert_geq(conn_limit_take(cl, &race.a), 0, "count back to zero: take %d", i);
    }
    cr_assert_eq(conn_limit_take(cl, &race.a), -EMFILE);
}
