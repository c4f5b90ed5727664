/* Tests for the UDP client side of relay/ (relay/client_udp.c) and the
 * batching under it: worker_recv_batch (recvmmsg into the worker's
 * buffers, headers reset between calls), the out queue (relay/out_queue.c,
 * through client_udp_queue for clients and directly for relay sockets: one
 * sendmmsg per socket run, flushed when full, equal-size runs to one
 * destination grouped for UDP GSO) and packet info on wildcard listeners.
 * Real sockets on loopback. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay/udp.h"
#include "relay/client_udp.h"

static struct worker *w;

static void setup(void)
{
    w = aligned_alloc(_Alignof(struct worker), sizeof(*w));
    cr_assert_not_null(w);
    memset(w, 0, sizeof(*w));
    w->bufs = malloc((size_t)BATCH * PKT_ROOM);
    cr_assert_not_null(w->bufs);
    worker_batch_init(w);
}

static void teardown(void)
{
    free(w->bufs);
    free(w);
}

TestSuite(client_udp, .init = setup, .fini = teardown);

/* A UDP socket bound to ip on an ephemeral port; writes its address. */
static int bound_socket(const char *ip, union turn_addr *addr)
{
    socklen_t len = sizeof(*addr);
    int fd;

    cr_assert_eq(turn_addr_parse(addr, ip, 0), 0);
    fd = udp_listen(addr);
    cr_assert_geq(fd, 0, "udp_listen: %s", strerror(-fd));
    cr_assert_eq(getsockname(fd, &addr->sa, &len), 0);
    return fd;
}

static void wait_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    cr_assert_eq(poll(&p, 1, 2000), 1, "nothing arrived");
}

/* Datagram i is i+1 bytes of the byte i, so content, length and order show. */
static void send_numbered(int from, const union turn_addr *to, unsigned n)
{
    uint8_t buf[64];

    for (unsigned i = 0; i < n; i++) {
        memset(buf, (int)i, i + 1);
        cr_assert_eq(sendto(from, buf, i + 1, 0, &to->sa, turn_addr_len(to)), (ssize_t)i + 1);
    }
}

Test(client_udp, recv_batch_drains_in_batches_and_resets_headers)
{
    union turn_addr a, b;
    int rx = bound_socket("127.0.0.1", &a), tx = bound_socket("127.0.0.1", &b);
    unsigned seen = 0;

    send_numbered(tx, &a, BATCH + 8);
    wait_readable(rx);
    for (int round = 0; round < 2; round++) {
        int n = worker_recv_batch(w, rx);
        cr_assert_eq(n, round == 0 ? BATCH : 8);
        for (int i = 0; i < n; i++, seen++) {
            const uint8_t *p = worker_buf(w, (unsigned)i) + TURN_HEADROOM;
            cr_assert_eq(w->in.msgs[i].msg_len, seen + 1);
            cr_assert_eq(p[0], (uint8_t)seen);
            cr_assert_eq(p[seen], (uint8_t)seen);
            /* the sender's address came back whole in every entry, so the
             * name lengths were reset after the first call */
            cr_assert(turn_addr_equal(&w->in.addr[i], &b), "entry %d", i);
        }
    }
    cr_assert_eq(worker_recv_batch(w, rx), -1);
    cr_assert_eq(errno, EAGAIN);
    close(rx);
    close(tx);
}

Test(client_udp, queue_flushes_one_run_per_socket_and_when_full)
{
    struct udp_listener l1 = {.link.kind = CLIENT_UDP}, l2 = {.link.kind = CLIENT_UDP};
    union turn_addr dst_addr;
    int dst = bound_socket("127.0.0.1", &dst_addr);
    struct turn_tuple t1 = {.client = dst_addr, .conn = &l1.link};
    struct turn_tuple t2 = {.client = dst_addr, .conn = &l2.link};
    static uint8_t payload[BATCH + 3][8];
    union turn_addr from[2];

    l1.fd = bound_socket("127.0.0.1", &l1.addr);
    l2.fd = bound_socket("127.0.0.1", &l2.addr);
    t1.server = l1.addr;
    t2.server = l2.addr;
    /* BATCH + 3 messages alternating in runs: the queue must flush itself
     * once when full and send the rest on out_queue_flush */
    for (unsigned i = 0; i < BATCH + 3; i++) {
        memset(payload[i], (int)i, sizeof(payload[i]));
        client_udp_queue(w, i % 4 < 2 ? &t1 : &t2, payload[i], i % 8 + 1);
    }
    cr_assert_eq(w->out.n, 3, "the full queue was sent before the 33rd message");
    out_queue_flush(&w->out);
    cr_assert_eq(w->out.n, 0);

    from[0] = l1.addr;
    from[1] = l2.addr;
    for (unsigned i = 0; i < BATCH + 3; i++) {
        uint8_t buf[16];
        union turn_addr src;
        socklen_t len = sizeof(src);
        wait_readable(dst);
        ssize_t n = recvfrom(dst, buf, sizeof(buf), 0, &src.sa, &len);
        cr_assert_eq(n, (ssize_t)(i % 8 + 1), "datagram %u", i);
        cr_assert_eq(buf[0], (uint8_t)i, "datagrams arrive in queue order");
        cr_assert(turn_addr_equal(&src, &from[i % 4 < 2 ? 0 : 1]), "sent from its listener");
    }
    close(dst);
    close(l1.fd);
    close(l2.fd);
}

Test(client_udp, wildcard_listener_answers_from_the_address_used)
{
    union turn_addr any, client_addr, to, local, src;
    struct udp_listener l = {.link.kind = CLIENT_UDP};
    int client = bound_socket("127.0.0.1", &client_addr);
    socklen_t len = sizeof(src);
    uint8_t ping = 7, buf[4];

    l.fd = bound_socket("0.0.0.0", &any);
    l.addr = any;
    l.wildcard = true;
    to = any;
    cr_assert_eq(turn_addr_parse(&to, "127.0.0.2", turn_addr_port(&any)), 0);
    cr_assert_eq(sendto(client, &ping, 1, 0, &to.sa, turn_addr_len(&to)), 1);
    wait_readable(l.fd);
    cr_assert_eq(worker_recv_batch(w, l.fd), 1);
    udp_local_addr(&w->in.msgs[0].msg_hdr, &l.addr, &local);
    cr_assert(turn_addr_equal(&local, &to), "packet info gives the address the client used");

    struct turn_tuple t = {.client = w->in.addr[0], .server = local, .conn = &l.link};
    client_udp_queue(w, &t, &ping, 1);
    out_queue_flush(&w->out);
    wait_readable(client);
    cr_assert_eq(recvfrom(client, buf, sizeof(buf), 0, &src.sa, &len), 1);
    cr_assert(turn_addr_equal(&src, &to), "the answer leaves from 127.0.0.2, not 127.0.0.1");
    close(client);
    close(l.fd);
}

/* A later packet of the same batch may end the allocation whose tuple a
 * queued datagram was addressed from (Refresh LIFETIME 0): the queue must
 * not read the tuple again at flush time. */
Test(client_udp, queued_destination_survives_the_tuple)
{
    struct udp_listener l = {.link.kind = CLIENT_UDP};
    union turn_addr dst_addr;
    int dst = bound_socket("127.0.0.1", &dst_addr);
    struct turn_tuple *t = malloc(sizeof(*t));
    uint8_t payload[] = "still delivered", buf[32];

    cr_assert_not_null(t);
    l.fd = bound_socket("127.0.0.1", &l.addr);
    *t = (struct turn_tuple){.client = dst_addr, .server = l.addr, .conn = &l.link};
    client_udp_queue(w, t, payload, sizeof(payload));
    memset(t, 0xB7, sizeof(*t)); /* what free() and reuse may leave */
    free(t);
    out_queue_flush(&w->out);
    wait_readable(dst);
    cr_assert_eq(recv(dst, buf, sizeof(buf), 0), (ssize_t)sizeof(payload));
    cr_assert_str_eq((char *)buf, "still delivered");
    close(dst);
    close(l.fd);
}

/* Receives one datagram on fd (waiting for it); returns its length. */
static ssize_t recv_one(int fd, uint8_t *buf, size_t size)
{
    wait_readable(fd);
    return recv(fd, buf, size, 0);
}

Test(client_udp, gso_groups_equal_sizes_for_one_client)
{
    struct udp_listener l = {.link.kind = CLIENT_UDP};
    union turn_addr a_addr, b_addr;
    int a = bound_socket("127.0.0.1", &a_addr), b = bound_socket("127.0.0.1", &b_addr);
    struct turn_tuple ta = {.client = a_addr, .conn = &l.link};
    struct turn_tuple tb = {.client = b_addr, .conn = &l.link};
    /* to a: 5 x 100 and a shorter 60 (one message), then 100 (the shorter
     * one closed it), 100 to b, then 2 x 120 to a (larger: new message) */
    static const struct {
        int to_b;
        size_t len;
    } plan[] = {{0, 100}, {0, 100}, {0, 100}, {0, 100}, {0, 100},
                {0, 60},  {0, 100}, {1, 100}, {0, 120}, {0, 120}};
    static uint8_t payload[10][128];
    uint8_t buf[256];

    w->out.gso = true;
    l.fd = bound_socket("127.0.0.1", &l.addr);
    ta.server = tb.server = l.addr;
    for (unsigned i = 0; i < 10; i++) {
        memset(payload[i], (int)i + 1, sizeof(payload[i]));
        client_udp_queue(w, plan[i].to_b ? &tb : &ta, payload[i], plan[i].len);
    }
    cr_assert_eq(w->out.n, 4, "messages: %u", w->out.n);
    cr_assert_eq(w->out.msgs[0].msg_hdr.msg_iovlen, 6);
    cr_assert_eq(w->out.msgs[3].msg_hdr.msg_iovlen, 2);
    out_queue_flush(&w->out);
    cr_assert(w->out.gso, "the kernel took UDP_SEGMENT");
    for (unsigned i = 0; i < 10; i++) {
        ssize_t n = recv_one(plan[i].to_b ? b : a, buf, sizeof(buf));
        cr_assert_eq(n, (ssize_t)plan[i].len, "datagram %u: %zd bytes", i, n);
        cr_assert_eq(buf[0], (uint8_t)(i + 1), "datagram %u arrives whole and in order", i);
        cr_assert_eq(buf[n - 1], (uint8_t)(i + 1));
    }
    close(a);
    close(b);
    close(l.fd);
}

Test(client_udp, gso_message_stays_within_a_udp_length)
{
    struct udp_listener l = {.link.kind = CLIENT_UDP};
    union turn_addr dst_addr;
    int dst = bound_socket("127.0.0.1", &dst_addr);
    struct turn_tuple t = {.client = dst_addr, .conn = &l.link};
    static uint8_t payload[2100];
    uint8_t buf[4096];

    w->out.gso = true;
    l.fd = bound_socket("127.0.0.1", &l.addr);
    t.server = l.addr;
    memset(payload, 0x5a, sizeof(payload));
    for (unsigned i = 0; i < BATCH; i++) {
        client_udp_queue(w, &t, payload, sizeof(payload));
    }
    /* 30 x 2100 = 63000; one more would pass GSO_MAX_BYTES */
    cr_assert_eq(w->out.n, 2);
    cr_assert_eq(w->out.msgs[0].msg_hdr.msg_iovlen, GSO_MAX_BYTES / sizeof(payload));
    out_queue_flush(&w->out);
    for (unsigned i = 0; i < BATCH; i++) {
        cr_assert_eq(recv_one(dst, buf, sizeof(buf)), (ssize_t)sizeof(payload), "datagram %u", i);
    }
    close(dst);
    close(l.fd);
}

Test(client_udp, gso_from_a_wildcard_listener_keeps_the_source_address)
{
    union turn_addr any, client_addr, to, local, src;
    struct udp_listener l = {.link.kind = CLIENT_UDP};
    int client = bound_socket("127.0.0.1", &client_addr);
    socklen_t len;
    uint8_t ping = 7, replies[3][16], buf[32];

    w->out.gso = true;
    l.fd = bound_socket("0.0.0.0", &any);
    l.addr = any;
    l.wildcard = true;
    cr_assert_eq(turn_addr_parse(&to, "127.0.0.3", turn_addr_port(&any)), 0);
    cr_assert_eq(sendto(client, &ping, 1, 0, &to.sa, turn_addr_len(&to)), 1);
    wait_readable(l.fd);
    cr_assert_eq(worker_recv_batch(w, l.fd), 1);
    udp_local_addr(&w->in.msgs[0].msg_hdr, &l.addr, &local);

    struct turn_tuple t = {.client = w->in.addr[0], .server = local, .conn = &l.link};
    for (unsigned i = 0; i < 3; i++) {
        memset(replies[i], (int)i, sizeof(replies[i]));
        client_udp_queue(w, &t, replies[i], sizeof(replies[i]));
    }
    cr_assert_eq(w->out.n, 1, "one GSO message");
    out_queue_flush(&w->out);
    for (unsigned i = 0; i < 3; i++) {
        len = sizeof(src);
        wait_readable(client);
        cr_assert_eq(recvfrom(client, buf, sizeof(buf), 0, &src.sa, &len), 16);
        cr_assert_eq(buf[0], (uint8_t)i);
        cr_assert(turn_addr_equal(&src, &to), "datagram %u leaves from 127.0.0.3", i);
    }
    close(client);
    close(l.fd);
}

/* Client to peer through relay sockets (no packet info): a run to one peer
 * is one GSO message; another relay socket or peer starts a new one, and
 * every datagram leaves from its own relay socket. */
Test(client_udp, relay_sockets_queue_and_group_per_socket_and_peer)
{
    union turn_addr peer_addr, r1_addr, r2_addr, src;
    int peer = bound_socket("127.0.0.1", &peer_addr);
    int r1 = bound_socket("127.0.0.1", &r1_addr), r2 = bound_socket("127.0.0.1", &r2_addr);
    static uint8_t payload[7][40];
    const int via[7] = {r1, r1, r1, r2, r2, r1, r1};
    uint8_t buf[64];
    socklen_t len;

    w->out.gso = true;
    for (unsigned i = 0; i < 7; i++) {
        memset(payload[i], (int)i, sizeof(payload[i]));
        out_queue_add(&w->out, via[i], NULL, NULL, &peer_addr, payload[i], sizeof(payload[i]));
    }
    cr_assert_eq(w->out.n, 3, "r1 x3, r2 x2, r1 x2: three messages, not %u", w->out.n);
    out_queue_flush(&w->out);
    for (unsigned i = 0; i < 7; i++) {
        len = sizeof(src);
        wait_readable(peer);
        cr_assert_eq(recvfrom(peer, buf, sizeof(buf), 0, &src.sa, &len), 40);
        cr_assert_eq(buf[0], (uint8_t)i, "datagram %u in order", i);
        cr_assert(turn_addr_equal(&src, via[i] == r1 ? &r1_addr : &r2_addr),
                  "datagram %u from its relay socket", i);
    }
    close(peer);
    close(r1);
    close(r2);
}
