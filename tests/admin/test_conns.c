/* Tests for admin/conns.c: which connection makes room for a newcomer,
 * deadlines, and the shutdown that closes them. */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "admin/conns.h"

static struct admin_conns t;

static struct sockaddr_storage addr(const char *ip)
{
    struct sockaddr_storage ss;

    memset(&ss, 0, sizeof(ss));
    if (strchr(ip, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        cr_assert_eq(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        cr_assert_eq(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
    }
    return ss;
}

/* Opens a connection from ip at time now (fd: any distinct number). */
static struct admin_conn *open_at(const char *ip, int fd, int64_t now)
{
    struct sockaddr_storage ss = addr(ip);
    struct admin_conn *c = admin_conns_open(&t, fd, (struct sockaddr *)&ss, now, 5000);

    cr_assert_not_null(c);
    return c;
}

static unsigned closing(void)
{
    unsigned n = 0;

    for (unsigned i = 0; i < ADMIN_CONNS_MAX; i++) {
        n += t.slot[i].fd >= 0 && t.slot[i].closing;
    }
    return n;
}

Test(conns, under_the_limits_nothing_is_closed)
{
    admin_conns_init(&t, 8, 4);
    for (int i = 0; i < 4; i++) {
        open_at("192.0.2.1", 100 + i, i);
        open_at("192.0.2.2", 200 + i, i);
    }
    cr_assert_eq(closing(), 0);
}

Test(conns, over_the_address_limit_its_longest_idle_makes_room)
{
    struct admin_conn *c[4], *other = NULL;

    admin_conns_init(&t, 60, 4);
    other = open_at("192.0.2.9", 99, 0); /* older than all, other address */
    for (int i = 0; i < 4; i++) {
        c[i] = open_at("192.0.2.1", 100 + i, 10 + i);
    }
    admin_conns_answered(c[0], 50, 2000); /* c[0] was active recently */
    open_at("192.0.2.1", 200, 60);
    cr_assert_eq(closing(), 1);
    cr_assert(c[1]->closing, "the longest-idle one of that address");
    cr_assert_not(other->closing);
    cr_assert_eq(c[1]->deadline_ms, 0);
}

Test(conns, over_the_total_the_busiest_address_makes_room)
{
    struct admin_conn *probe, *big[3], *small;

    admin_conns_init(&t, 5, 16);
    small = open_at("192.0.2.1", 10, 0); /* the oldest of all */
    for (int i = 0; i < 3; i++) {
        big[i] = open_at("192.0.2.2", 20 + i, 1 + i);
    }
    open_at("192.0.2.3", 30, 5);
    probe = open_at("192.0.2.4", 40, 6); /* the sixth: over 5 */
    cr_assert_eq(closing(), 1);
    cr_assert(big[0]->closing);
    cr_assert_not(small->closing);
    cr_assert_not(probe->closing);
}

Test(conns, an_idle_connection_goes_before_one_being_answered)
{
    struct admin_conn *a, *b;

    admin_conns_init(&t, 60, 2);
    a = open_at("192.0.2.1", 10, 0);
    b = open_at("192.0.2.1", 11, 5);
    cr_assert_eq(admin_conns_request(a), 1);
    open_at("192.0.2.1", 12, 6);
    cr_assert_not(a->closing);
    cr_assert(b->closing);
}

Test(conns, closing_ones_do_not_count)
{
    admin_conns_init(&t, 60, 2);
    open_at("192.0.2.1", 10, 0);
    open_at("192.0.2.1", 11, 1);
    open_at("192.0.2.1", 12, 2); /* closes fd 10 */
    open_at("192.0.2.1", 13, 3); /* closes fd 11, not fd 10 again */
    cr_assert_eq(closing(), 2);
    cr_assert(t.slot[0].closing && t.slot[1].closing);
}

Test(conns, an_ipv6_64_is_one_address)
{
    admin_conns_init(&t, 60, 2);
    open_at("2001:db8:0:1::1", 10, 0);
    open_at("2001:db8:0:1::2", 11, 1);
    open_at("2001:db8:0:1:ffff::3", 12, 2);
    cr_assert_eq(closing(), 1);
    open_at("2001:db8:0:2::1", 13, 3);
    cr_assert_eq(closing(), 1);
}

Test(conns, a_full_table_takes_nothing)
{
    struct sockaddr_storage ss = addr("192.0.2.1");

    admin_conns_init(&t, ADMIN_CONNS_MAX, ADMIN_CONNS_MAX);
    for (int i = 0; i < ADMIN_CONNS_MAX; i++) {
        open_at("192.0.2.1", 100 + i, i);
    }
    cr_assert_null(admin_conns_open(&t, 500, (struct sockaddr *)&ss, 100, 5000));
    admin_conns_close(&t.slot[7]);
    cr_assert_null(admin_conns_open(&t, -1, (struct sockaddr *)&ss, 100, 5000));
    cr_assert_eq(admin_conns_open(&t, 500, (struct sockaddr *)&ss, 100, 5000), &t.slot[7]);
}

Test(conns, requests_are_counted_and_each_answer_moves_the_deadline)
{
    struct admin_conn *c;

    admin_conns_init(&t, 60, 16);
    c = open_at("192.0.2.1", 10, 1000);
    cr_assert_eq(c->deadline_ms, 6000);
    cr_assert_eq(admin_conns_request(c), 1);
    cr_assert(c->busy);
    admin_conns_answered(c, 1200, 2000);
    cr_assert_not(c->busy);
    cr_assert_eq(c->deadline_ms, 3200);
    cr_assert_eq(c->since_ms, 1200);
    cr_assert_eq(admin_conns_request(c), 2);
}

/* A socket pair stands in for a connection: shutdown on one end is read as
 * end of stream on the other. */
Test(conns, enforce_shuts_down_the_due_ones_once)
{
    int due[2], later[2], marked[2];
    char byte;
    struct sockaddr_storage ss = addr("192.0.2.1");
    struct admin_conn *m;

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, due), 0);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, later), 0);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, marked), 0);
    admin_conns_init(&t, 60, 2);
    admin_conns_open(&t, due[0], (struct sockaddr *)&ss, 0, 100);
    admin_conns_open(&t, later[0], (struct sockaddr *)&ss, 0, 700);
    m = admin_conns_open(&t, marked[0], NULL, 0, 5000);
    m->closing = true;
    m->deadline_ms = 0;
    cr_assert_eq(admin_conns_enforce(&t, 200, 1000), 500, "until the later deadline");
    cr_assert_eq(recv(due[1], &byte, 1, MSG_DONTWAIT), 0);
    cr_assert_eq(recv(marked[1], &byte, 1, MSG_DONTWAIT), 0);
    cr_assert_eq(recv(later[1], &byte, 1, MSG_DONTWAIT), -1);
    cr_assert_eq(t.slot[0].deadline_ms, INT64_MAX);
    cr_assert_eq(t.closed[ADMIN_CLOSE_ROOM], 1);
    cr_assert_eq(t.closed[ADMIN_CLOSE_DEADLINE], 1);
    cr_assert_eq(admin_conns_enforce(&t, 300, 1000), 400);
    cr_assert_eq(t.closed[ADMIN_CLOSE_ROOM] + t.closed[ADMIN_CLOSE_DEADLINE], 2, "once each");
    for (int i = 0; i < 2; i++) {
        close(due[i]);
        close(later[i]);
        close(marked[i]);
    }
}
