/* Tests for relay/relay_ports: the bitmap of held relay ports, per family
 * (IPv4 and IPv6 apart), at the edges of the port range and of its 64-bit
 * words, counted for /metrics, and shared by threads (atomic bits). */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "relay/relay_ports.h"

static struct relay_ports *ports;

static void setup(void)
{
    ports = calloc(1, sizeof(*ports));
    cr_assert_not_null(ports);
}

static void teardown(void)
{
    free(ports);
}

TestSuite(relay_ports, .init = setup, .fini = teardown);

static union turn_addr v4(const char *ip, uint16_t port)
{
    union turn_addr a;
    cr_assert_eq(turn_addr_parse(&a, ip, port), 0);
    return a;
}

#define V4(port) v4("192.0.2.10", (port))
#define V6(port) v4("2001:db8::10", (port))

Test(relay_ports, nothing_is_held_at_first)
{
    static const uint16_t probe[] = {0, 1, 63, 64, 3478, 49152, 65535};

    for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
        union turn_addr a = V4(probe[i]), b = V6(probe[i]);
        cr_assert_not(relay_ports_held(ports, &a), "IPv4 port %u", probe[i]);
        cr_assert_not(relay_ports_held(ports, &b), "IPv6 port %u", probe[i]);
    }
    cr_assert_eq(relay_ports_count(ports, AF_INET), 0);
    cr_assert_eq(relay_ports_count(ports, AF_INET6), 0);
}

Test(relay_ports, mark_then_free_one_port)
{
    union turn_addr a = V4(50000);

    relay_ports_mark(ports, &a, true);
    cr_assert(relay_ports_held(ports, &a));
    cr_assert_eq(relay_ports_count(ports, AF_INET), 1);
    relay_ports_mark(ports, &a, false);
    cr_assert_not(relay_ports_held(ports, &a));
    cr_assert_eq(relay_ports_count(ports, AF_INET), 0);
}

/* The bitmap knows ports, not addresses: a relay address on that port
 * asks about the same bit whatever IP it names (the policy asks only for
 * relay addresses). */
Test(relay_ports, the_ip_does_not_matter_only_the_port)
{
    union turn_addr a = V4(50001), other = v4("198.51.100.1", 50001), next = V4(50002);

    relay_ports_mark(ports, &a, true);
    cr_assert(relay_ports_held(ports, &other));
    cr_assert_not(relay_ports_held(ports, &next));
}

Test(relay_ports, families_are_apart)
{
    union turn_addr a4 = V4(50010), a6 = V6(50010), b6 = V6(50020), b4 = V4(50020);

    relay_ports_mark(ports, &a4, true);
    cr_assert(relay_ports_held(ports, &a4));
    cr_assert_not(relay_ports_held(ports, &a6), "an IPv4 relay port is not an IPv6 one");
    relay_ports_mark(ports, &b6, true);
    cr_assert(relay_ports_held(ports, &b6));
    cr_assert_not(relay_ports_held(ports, &b4), "an IPv6 relay port is not an IPv4 one");
    cr_assert_eq(relay_ports_count(ports, AF_INET), 1);
    cr_assert_eq(relay_ports_count(ports, AF_INET6), 1);

    relay_ports_mark(ports, &a6, false); /* freeing the other family's port */
    cr_assert(relay_ports_held(ports, &a4), "freeing IPv6 50010 left IPv4 50010 alone");
    relay_ports_mark(ports, &a6, true);
    relay_ports_mark(ports, &a4, false);
    cr_assert(relay_ports_held(ports, &a6));
    cr_assert_not(relay_ports_held(ports, &a4));
}

/* Ports 0 and 65535, and both sides of each 64-port word boundary, are
 * bits of their own. */
Test(relay_ports, edges_of_the_range_and_of_the_words)
{
    static const uint16_t edge[] = {0, 1, 63, 64, 65, 127, 128, 65471, 65472, 65534, 65535};
    const size_t n = sizeof(edge) / sizeof(edge[0]);

    for (size_t i = 0; i < n; i++) {
        union turn_addr a = V4(edge[i]), b = V6(edge[i]);
        relay_ports_mark(ports, &a, true);
        relay_ports_mark(ports, &b, true);
        cr_assert_eq(relay_ports_count(ports, AF_INET), i + 1, "after IPv4 port %u", edge[i]);
        cr_assert_eq(relay_ports_count(ports, AF_INET6), i + 1, "after IPv6 port %u", edge[i]);
    }
    for (unsigned p = 0; p < 65536; p++) {
        bool want = false;
        union turn_addr a = V4((uint16_t)p), b = V6((uint16_t)p);
        for (size_t i = 0; i < n; i++) {
            want |= edge[i] == p;
        }
        cr_assert_eq(relay_ports_held(ports, &a), want, "IPv4 port %u", p);
        cr_assert_eq(relay_ports_held(ports, &b), want, "IPv6 port %u", p);
    }
    /* freeing one edge leaves its neighbours in the same word */
    union turn_addr p0 = V4(0), p1 = V4(1), p63 = V4(63), p64 = V4(64), top = V4(65535);
    relay_ports_mark(ports, &p63, false);
    cr_assert_not(relay_ports_held(ports, &p63));
    cr_assert(relay_ports_held(ports, &p0));
    cr_assert(relay_ports_held(ports, &p1));
    cr_assert(relay_ports_held(ports, &p64));
    relay_ports_mark(ports, &top, false);
    cr_assert_not(relay_ports_held(ports, &top));
    cr_assert_eq(relay_ports_count(ports, AF_INET), n - 2);
    cr_assert_eq(relay_ports_count(ports, AF_INET6), n);
}

Test(relay_ports, marking_is_idempotent)
{
    union turn_addr a = V4(60000), b = V4(60001);

    relay_ports_mark(ports, &a, true);
    relay_ports_mark(ports, &a, true);
    cr_assert_eq(relay_ports_count(ports, AF_INET), 1);
    relay_ports_mark(ports, &b, false); /* freeing a port not held */
    cr_assert(relay_ports_held(ports, &a));
    cr_assert_eq(relay_ports_count(ports, AF_INET), 1);
    relay_ports_mark(ports, &a, false);
    relay_ports_mark(ports, &a, false);
    cr_assert_eq(relay_ports_count(ports, AF_INET), 0);
}

Test(relay_ports, every_port_held_counts_65536)
{
    for (unsigned p = 0; p < 65536; p++) {
        union turn_addr a = V6((uint16_t)p);
        relay_ports_mark(ports, &a, true);
    }
    cr_assert_eq(relay_ports_count(ports, AF_INET6), 65536);
    cr_assert_eq(relay_ports_count(ports, AF_INET), 0);
    for (unsigned p = 0; p < 65536; p += 2) {
        union turn_addr a = V6((uint16_t)p);
        relay_ports_mark(ports, &a, false);
    }
    cr_assert_eq(relay_ports_count(ports, AF_INET6), 32768);
}

/* Workers mark and free ports at once, neighbours in one word: a plain
 * read-modify-write would lose bits. Each thread flips its own ports of
 * word 0 and checks right after each flip that its bit says what it just
 * wrote: only another thread's stale write could change it. */
#define THREADS 4
#define ROUNDS 1000000

static union turn_addr flip_base; /* parsed before the threads start */
static pthread_barrier_t start;

static void *flipper(void *arg)
{
    unsigned t = (unsigned)(uintptr_t)arg;
    uintptr_t lost = 0;

    pthread_barrier_wait(&start); /* all at once */
    for (unsigned r = 0; r < ROUNDS; r++) {
        union turn_addr a = flip_base;
        bool held = r % 2 == 0;
        turn_addr_set_port(&a, (uint16_t)(t + THREADS * (r / 2 % (64 / THREADS))));
        relay_ports_mark(ports, &a, held);
        lost += relay_ports_held(ports, &a) != held;
    }
    return (void *)lost;
}

Test(relay_ports, concurrent_marks_of_one_word_lose_no_bit)
{
    pthread_t th[THREADS];

    flip_base = V4(0);
    cr_assert_eq(pthread_barrier_init(&start, NULL, THREADS), 0);
    for (unsigned t = 0; t < THREADS; t++) {
        cr_assert_eq(pthread_create(&th[t], NULL, flipper, (void *)(uintptr_t)t), 0);
    }
    for (unsigned t = 0; t < THREADS; t++) {
        void *lost;
        pthread_join(th[t], &lost);
        cr_assert_eq((uintptr_t)lost, 0, "thread %u: %zu flips undone by another thread", t,
                     (size_t)(uintptr_t)lost);
    }
    pthread_barrier_destroy(&start);
    cr_assert_eq(relay_ports_count(ports, AF_INET), 0, "every thread ended clearing");
}
