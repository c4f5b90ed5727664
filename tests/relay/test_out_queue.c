/* Tests for relay/out_queue on its own: datagrams for several sockets and
 * destinations arrive once each, in order per destination, from the right
 * socket or packet-info address; GSO groups a run to one destination of
 * one size but the last, and never when gso is off; a full queue flushes
 * before the next datagram; a datagram the kernel refuses, or one to a
 * closed port, does not hold back the rest. Real UDP sockets on loopback. */
#include <criterion/criterion.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay/out_queue.h"

static struct out_queue *q;

static void setup(void)
{
    q = calloc(1, sizeof(*q));
    cr_assert_not_null(q);
}

static void teardown(void)
{
    free(q);
}

TestSuite(out_queue, .init = setup, .fini = teardown);

/* A UDP socket bound to ip on an ephemeral port; writes its address. */
static int bound_socket(const char *ip, union turn_addr *addr)
{
    socklen_t len = sizeof(*addr);
    int fd;

    cr_assert_eq(turn_addr_parse(addr, ip, 0), 0);
    fd = udp_listen(addr);
    cr_assert_geq(fd, 0, "udp_listen %s: %s", ip, strerror(-fd));
    cr_assert_eq(getsockname(fd, &addr->sa, &len), 0);
    return fd;
}

/* Receives the next datagram on fd, waiting up to 2 s; writes its source. */
static ssize_t recv_from(int fd, uint8_t *buf, size_t size, union turn_addr *src)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    socklen_t len = sizeof(*src);

    cr_assert_eq(poll(&p, 1, 2000), 1, "a datagram is missing");
    return recvfrom(fd, buf, size, MSG_DONTWAIT, &src->sa, &len);
}

/* Nothing more arrives on fd within wait_ms (no duplicate, no stray). */
static void assert_quiet(int fd, int wait_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    cr_assert_eq(poll(&p, 1, wait_ms), 0, "an unexpected datagram arrived");
}

/* Datagram i: len bytes, each (i + 1), so content, order and size show. */
static uint8_t payload[64][2200];

static void *numbered(unsigned i, size_t len)
{
    memset(payload[i], (int)(i + 1), len);
    return payload[i];
}

/* Reads the next datagram on fd and checks it is datagram i of len bytes
 * from src. */
static void expect(int fd, unsigned i, size_t len, const union turn_addr *src)
{
    uint8_t buf[2300];
    union turn_addr from;
    ssize_t n = recv_from(fd, buf, sizeof(buf), &from);

    cr_assert_eq(n, (ssize_t)len, "datagram %u: %zd bytes, not %zu", i, n, len);
    cr_assert_eq(buf[0], (uint8_t)(i + 1), "datagram %u: got datagram %u", i, buf[0] - 1u);
    cr_assert_eq(buf[n - 1], (uint8_t)(i + 1), "datagram %u whole", i);
    cr_assert(turn_addr_equal(&from, src), "datagram %u from its socket", i);
}

#define SENDERS 2
#define RECEIVERS 3
#define COUNT 40 /* more than OUT_QUEUE_LEN: one flush on the way */

/* Datagrams of mixed sizes in runs for 3 destinations from 2 sockets. */
static void many_to_many(bool gso)
{
    union turn_addr tx_addr[SENDERS], rx_addr[RECEIVERS];
    int tx[SENDERS], rx[RECEIVERS];
    unsigned via[COUNT], to[COUNT];
    size_t len[COUNT];

    for (int i = 0; i < SENDERS; i++) {
        tx[i] = bound_socket("127.0.0.1", &tx_addr[i]);
    }
    for (int i = 0; i < RECEIVERS; i++) {
        rx[i] = bound_socket("127.0.0.1", &rx_addr[i]);
    }
    q->gso = gso;
    for (unsigned i = 0; i < COUNT; i++) {
        via[i] = (i / 5) % SENDERS;
        to[i] = (i / 3 + i / 7) % RECEIVERS;
        len[i] = i % 4 == 3 ? 40 : 200;
        out_queue_add(q, tx[via[i]], NULL, NULL, &rx_addr[to[i]], numbered(i, len[i]), len[i]);
    }
    out_queue_flush(q);
    cr_assert_eq(q->n, 0);
    cr_assert_eq(q->n_iov, 0);
    for (unsigned i = 0; i < COUNT; i++) {
        expect(rx[to[i]], i, len[i], &tx_addr[via[i]]);
    }
    for (int i = 0; i < RECEIVERS; i++) {
        assert_quiet(rx[i], 50);
        close(rx[i]);
    }
    for (int i = 0; i < SENDERS; i++) {
        close(tx[i]);
    }
}

Test(out_queue, many_sockets_and_destinations_without_gso)
{
    many_to_many(false);
}

Test(out_queue, many_sockets_and_destinations_with_gso)
{
    many_to_many(true);
    cr_assert(q->gso, "loopback takes UDP_SEGMENT");
}

Test(out_queue, gso_off_sends_each_datagram_alone)
{
    union turn_addr tx_addr, rx_addr;
    int tx = bound_socket("127.0.0.1", &tx_addr), rx = bound_socket("127.0.0.1", &rx_addr);

    for (unsigned i = 0; i < 4; i++) {
        out_queue_add(q, tx, NULL, NULL, &rx_addr, numbered(i, 100), 100);
    }
    cr_assert_eq(q->n, 4, "four messages, not %u", q->n);
    for (unsigned k = 0; k < 4; k++) {
        cr_assert_eq(q->msgs[k].msg_hdr.msg_iovlen, 1);
    }
    out_queue_flush(q);
    for (unsigned i = 0; i < 4; i++) {
        expect(rx, i, 100, &tx_addr);
    }
    close(tx);
    close(rx);
}

/* The header's rule: consecutive datagrams from one socket to one
 * destination, all of one size but the last, form one message. */
Test(out_queue, gso_groups_one_size_and_a_shorter_last)
{
    union turn_addr tx_addr, tx2_addr, a_addr, b_addr;
    int tx = bound_socket("127.0.0.1", &tx_addr), tx2 = bound_socket("127.0.0.1", &tx2_addr);
    int a = bound_socket("127.0.0.1", &a_addr), b = bound_socket("127.0.0.1", &b_addr);
    static const struct {
        int sock2, to_b;
        size_t len;
        unsigned msg; /* the message it must join */
    } plan[] = {
        {0, 0, 100, 0}, {0, 0, 100, 0}, {0, 0, 100, 0}, {0, 0, 50, 0}, /* shorter last */
        {0, 0, 100, 1},                                                /* after a shorter one */
        {0, 0, 100, 1},                                                /* same size again */
        {0, 0, 120, 2},                                                /* larger */
        {0, 1, 120, 3},                                                /* another destination */
        {1, 1, 120, 4},                                                /* another socket */
        {1, 1, 120, 4},                                                /* joins */
        {1, 1, 10, 4},                                                 /* shorter: the last */
        {1, 1, 10, 5},                                                 /* closed, even at 10 */
    };
    const unsigned n = sizeof(plan) / sizeof(plan[0]);
    unsigned iovs[6] = {0};

    q->gso = true;
    for (unsigned i = 0; i < n; i++) {
        out_queue_add(q, plan[i].sock2 ? tx2 : tx, NULL, NULL, plan[i].to_b ? &b_addr : &a_addr,
                      numbered(i, plan[i].len), plan[i].len);
        cr_assert_eq(q->n, plan[i].msg + 1, "datagram %u: %u messages", i, q->n);
        iovs[plan[i].msg]++;
    }
    for (unsigned k = 0; k < 6; k++) {
        cr_assert_eq(q->msgs[k].msg_hdr.msg_iovlen, iovs[k], "message %u", k);
    }
    out_queue_flush(q);
    cr_assert(q->gso, "the kernel took UDP_SEGMENT");
    for (unsigned i = 0; i < n; i++) {
        expect(plan[i].to_b ? b : a, i, plan[i].len, plan[i].sock2 ? &tx2_addr : &tx_addr);
    }
    assert_quiet(a, 50);
    assert_quiet(b, 0);
    close(tx);
    close(tx2);
    close(a);
    close(b);
}

/* A GSO message is one UDP datagram to the kernel: it stays within
 * GSO_MAX_BYTES, so a long run of big datagrams splits. */
Test(out_queue, gso_message_stays_within_max_bytes)
{
    union turn_addr tx_addr, rx_addr;
    int tx = bound_socket("127.0.0.1", &tx_addr), rx = bound_socket("127.0.0.1", &rx_addr);
    const size_t len = 2100;

    q->gso = true;
    for (unsigned i = 0; i < OUT_QUEUE_LEN; i++) {
        out_queue_add(q, tx, NULL, NULL, &rx_addr, numbered(i, len), len);
    }
    cr_assert_eq(q->n, 2);
    cr_assert_eq(q->msgs[0].msg_hdr.msg_iovlen, GSO_MAX_BYTES / len);
    cr_assert_leq(q->bytes[0], GSO_MAX_BYTES);
    out_queue_flush(q);
    for (unsigned i = 0; i < OUT_QUEUE_LEN; i++) {
        expect(rx, i, len, &tx_addr);
    }
    close(tx);
    close(rx);
}

/* OUT_QUEUE_LEN datagrams wait for the flush; one more sends them first
 * and then waits alone. */
static void full_queue(bool gso)
{
    union turn_addr tx_addr, rx_addr;
    int tx = bound_socket("127.0.0.1", &tx_addr), rx = bound_socket("127.0.0.1", &rx_addr);

    q->gso = gso;
    for (unsigned i = 0; i < OUT_QUEUE_LEN; i++) {
        out_queue_add(q, tx, NULL, NULL, &rx_addr, numbered(i, 64), 64);
    }
    cr_assert_eq(q->n_iov, OUT_QUEUE_LEN);
    assert_quiet(rx, 20); /* nothing sent before the flush */
    out_queue_add(q, tx, NULL, NULL, &rx_addr, numbered(OUT_QUEUE_LEN, 64), 64);
    cr_assert_eq(q->n_iov, 1, "the full queue was flushed first");
    cr_assert_eq(q->n, 1);
    for (unsigned i = 0; i < OUT_QUEUE_LEN; i++) {
        expect(rx, i, 64, &tx_addr);
    }
    assert_quiet(rx, 20); /* the last waits for its flush */
    out_queue_flush(q);
    expect(rx, OUT_QUEUE_LEN, 64, &tx_addr);
    close(tx);
    close(rx);
}

Test(out_queue, full_queue_flushes_before_the_next_without_gso)
{
    full_queue(false);
}

Test(out_queue, full_queue_flushes_before_the_next_with_gso)
{
    full_queue(true);
}

/* The kernel refuses some datagrams at once (port 0: EINVAL, an IPv6
 * destination on an IPv4 socket: EAFNOSUPPORT), alone or as a GSO message: they are lost, the
 * datagrams around them still go, and GSO stays on (the refusal was not about GSO). */
Test(out_queue, refused_datagrams_do_not_stop_the_batch)
{
    union turn_addr tx_addr, a_addr, b_addr, port0, v6;
    int tx = bound_socket("127.0.0.1", &tx_addr);
    int a = bound_socket("127.0.0.1", &a_addr), b = bound_socket("127.0.0.1", &b_addr);
    /* destination per datagram: 0 = a, 1 = b, 2 = port 0, 3 = IPv6 */
    static const int to[] = {0, 2, 0, 2, 2, 1, 3, 3, 0, 1};
    const union turn_addr *dest[] = {&a_addr, &b_addr, &port0, &v6};
    const unsigned n = sizeof(to) / sizeof(to[0]);

    cr_assert_eq(turn_addr_parse(&port0, "127.0.0.1", 0), 0);
    cr_assert_eq(turn_addr_parse(&v6, "::1", turn_addr_port(&a_addr)), 0);
    q->gso = true;
    for (unsigned i = 0; i < n; i++) {
        out_queue_add(q, tx, NULL, NULL, dest[to[i]], numbered(i, 80), 80);
    }
    cr_assert_eq(q->n, 8, "datagrams 3-4 and 6-7 are GSO messages");
    out_queue_flush(q);
    for (unsigned i = 0; i < n; i++) {
        if (to[i] < 2) {
            expect(to[i] ? b : a, i, 80, &tx_addr);
        }
    }
    assert_quiet(a, 50);
    assert_quiet(b, 0);
    cr_assert(q->gso, "EINVAL and EAFNOSUPPORT say nothing about GSO");

    /* and the queue works on */
    out_queue_add(q, tx, NULL, NULL, &b_addr, numbered(20, 30), 30);
    out_queue_flush(q);
    expect(b, 20, 30, &tx_addr);
    close(tx);
    close(a);
    close(b);
}

/* A closed port answers with ICMP port unreachable: neither the datagrams
 * after it in the batch nor the next batch on that socket suffer. */
Test(out_queue, closed_port_does_not_break_the_rest)
{
    union turn_addr tx_addr, rx_addr, closed;
    int tx = bound_socket("127.0.0.1", &tx_addr), rx = bound_socket("127.0.0.1", &rx_addr);

    close(bound_socket("127.0.0.1", &closed));
    for (int gso = 0; gso < 2; gso++) {
        q->gso = gso;
        out_queue_add(q, tx, NULL, NULL, &rx_addr, numbered(0, 50), 50);
        out_queue_add(q, tx, NULL, NULL, &closed, numbered(1, 50), 50);
        out_queue_add(q, tx, NULL, NULL, &closed, numbered(2, 50), 50);
        out_queue_add(q, tx, NULL, NULL, &rx_addr, numbered(3, 50), 50);
        out_queue_add(q, tx, NULL, NULL, &rx_addr, numbered(4, 50), 50);
        out_queue_flush(q);
        expect(rx, 0, 50, &tx_addr);
        expect(rx, 3, 50, &tx_addr);
        expect(rx, 4, 50, &tx_addr);
        usleep(10000); /* let the ICMP errors come back before the next batch */
    }
    out_queue_add(q, tx, NULL, NULL, &rx_addr, numbered(5, 50), 50);
    out_queue_flush(q);
    expect(rx, 5, 50, &tx_addr);
    assert_quiet(rx, 50);
    close(tx);
    close(rx);
}

Test(out_queue, ipv6_destinations)
{
    union turn_addr tx_addr, rx_addr, rx2_addr;
    int tx = bound_socket("::1", &tx_addr), rx = bound_socket("::1", &rx_addr);
    int rx2 = bound_socket("::1", &rx2_addr);

    q->gso = true;
    for (unsigned i = 0; i < 6; i++) {
        out_queue_add(q, tx, NULL, NULL, i < 4 ? &rx_addr : &rx2_addr, numbered(i, 300), 300);
    }
    cr_assert_eq(q->n, 2);
    out_queue_flush(q);
    for (unsigned i = 0; i < 6; i++) {
        expect(i < 4 ? rx : rx2, i, 300, &tx_addr);
    }
    close(tx);
    close(rx);
    close(rx2);
}

/* A wildcard listener's datagrams leave from the local address given for
 * each (packet info); a change of that address ends a GSO run. */
Test(out_queue, wildcard_listener_sends_from_the_given_address)
{
    union turn_addr any, rx_addr, from2, from3;
    int tx = bound_socket("0.0.0.0", &any), rx = bound_socket("127.0.0.1", &rx_addr);
    const union turn_addr *from[] = {&from2, &from2, &from3, &from3, &from2};

    cr_assert_eq(turn_addr_parse(&from2, "127.0.0.2", turn_addr_port(&any)), 0);
    cr_assert_eq(turn_addr_parse(&from3, "127.0.0.3", turn_addr_port(&any)), 0);
    q->gso = true;
    for (unsigned i = 0; i < 5; i++) {
        out_queue_add(q, tx, &any, from[i], &rx_addr, numbered(i, 70), 70);
    }
    cr_assert_eq(q->n, 3, "the source address splits the runs");
    out_queue_flush(q);
    for (unsigned i = 0; i < 5; i++) {
        expect(rx, i, 70, from[i]);
    }
    close(tx);
    close(rx);
}

/* Destinations are copied: the caller's address may change or go away
 * before the flush (a later packet may end its allocation). */
Test(out_queue, destinations_are_copied)
{
    union turn_addr tx_addr, rx_addr, other_addr, *to = malloc(sizeof(*to));
    int tx = bound_socket("127.0.0.1", &tx_addr), rx = bound_socket("127.0.0.1", &rx_addr);
    int other = bound_socket("127.0.0.1", &other_addr);

    cr_assert_not_null(to);
    *to = rx_addr;
    out_queue_add(q, tx, NULL, NULL, to, numbered(0, 20), 20);
    *to = other_addr;
    free(to);
    out_queue_flush(q);
    expect(rx, 0, 20, &tx_addr);
    assert_quiet(other, 50);
    close(tx);
    close(rx);
    close(other);
}
