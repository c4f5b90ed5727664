/* Tests for relay/reservation: relay ports held under RESERVATION-TOKENs
 * (RFC 8656 7.2, EVEN-PORT with R set): put gives a fresh random token and
 * marks the port held, take hands the socket back once, unknown tokens and
 * expired reservations (RESERVATION_LIFETIME) give -ENOENT and expiry
 * closes the socket, RESERVATION_MAX bounds the table, free closes what is
 * left, and workers may put and take at once. Real UDP sockets on
 * loopback. (The 300 s channel reservation of RFC 8656 12 lives in
 * turn/alloc, not here.) */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "relay/reservation.h"
#include "relay/udp.h"

#define T0 1000u

static struct relay_ports *ports;
static struct reservations *res;

static void setup(void)
{
    ports = calloc(1, sizeof(*ports));
    cr_assert_not_null(ports);
    cr_assert_eq(reservations_new(&res, ports), 0);
}

static void teardown(void)
{
    reservations_free(res);
    free(ports);
}

TestSuite(reservation, .init = setup, .fini = teardown);

/* A UDP socket bound to 127.0.0.1 on an ephemeral port, as a relay socket. */
static int relay_socket(union turn_addr *bound)
{
    socklen_t len = sizeof(*bound);
    int fd;

    cr_assert_eq(turn_addr_parse(bound, "127.0.0.1", 0), 0);
    fd = udp_listen(bound);
    cr_assert_geq(fd, 0);
    cr_assert_eq(getsockname(fd, &bound->sa, &len), 0);
    return fd;
}

static bool fd_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

Test(reservation, put_then_take_gives_the_socket_back_once)
{
    union turn_addr bound, got, sock_addr;
    uint8_t token[TURN_TOKEN_LEN], zero[TURN_TOKEN_LEN] = {0};
    int fd = relay_socket(&bound);
    socklen_t len = sizeof(sock_addr);

    cr_assert_eq(reservations_put(res, fd, &bound, T0, token), 0);
    cr_assert_neq(memcmp(token, zero, sizeof(token)), 0, "a token was written");
    cr_assert(relay_ports_held(ports, &bound), "the reserved port counts as a relay port");
    cr_assert(fd_open(fd), "held open");

    int back = reservations_take(res, token, T0 + 5, &got);
    cr_assert_eq(back, fd);
    cr_assert(turn_addr_equal(&got, &bound));
    cr_assert_eq(getsockname(back, &sock_addr.sa, &len), 0);
    cr_assert(turn_addr_equal(&sock_addr, &bound), "still bound where it was");
    /* the socket lives on as the new allocation's relay socket */
    cr_assert(relay_ports_held(ports, &bound));

    cr_assert_eq(reservations_take(res, token, T0 + 5, &got), -ENOENT, "a token works once");
    close(back);
}

Test(reservation, tokens_are_fresh_and_each_finds_its_own_socket)
{
    union turn_addr b[3], got;
    uint8_t tok[3][TURN_TOKEN_LEN];
    int fd[3];

    for (int i = 0; i < 3; i++) {
        fd[i] = relay_socket(&b[i]);
        cr_assert_eq(reservations_put(res, fd[i], &b[i], T0, tok[i]), 0);
    }
    cr_assert_neq(memcmp(tok[0], tok[1], TURN_TOKEN_LEN), 0);
    cr_assert_neq(memcmp(tok[1], tok[2], TURN_TOKEN_LEN), 0);
    cr_assert_neq(memcmp(tok[0], tok[2], TURN_TOKEN_LEN), 0);
    cr_assert_eq(relay_ports_count(ports, AF_INET), 3);
    for (int i = 2; i >= 0; i--) { /* in another order */
        cr_assert_eq(reservations_take(res, tok[i], T0 + 1, &got), fd[i]);
        cr_assert(turn_addr_equal(&got, &b[i]));
        close(fd[i]);
    }
}

Test(reservation, unknown_token_is_enoent_and_leaves_bound_alone)
{
    union turn_addr bound, got, untouched;
    uint8_t token[TURN_TOKEN_LEN];
    int fd = relay_socket(&bound);

    cr_assert_eq(reservations_put(res, fd, &bound, T0, token), 0);
    token[TURN_TOKEN_LEN - 1] ^= 1;
    memset(&got, 0xA5, sizeof(got));
    untouched = got;
    cr_assert_eq(reservations_take(res, token, T0, &got), -ENOENT);
    cr_assert_eq(memcmp(&got, &untouched, sizeof(got)), 0);
    cr_assert(fd_open(fd), "the reservation stays");
    cr_assert(relay_ports_held(ports, &bound));
    token[TURN_TOKEN_LEN - 1] ^= 1;
    cr_assert_eq(reservations_take(res, token, T0, &got), fd);
    close(fd);
}

/* A reservation lasts RESERVATION_LIFETIME seconds; one taken too late is
 * gone, its socket closed and its port free again. */
Test(reservation, expires_after_its_lifetime)
{
    union turn_addr b1, b2, got;
    uint8_t t1[TURN_TOKEN_LEN], t2[TURN_TOKEN_LEN];
    int fd1 = relay_socket(&b1), fd2 = relay_socket(&b2);

    cr_assert_eq(reservations_put(res, fd1, &b1, T0, t1), 0);
    cr_assert_eq(reservations_put(res, fd2, &b2, T0 + 10, t2), 0);
    cr_assert_eq(reservations_take(res, t1, T0 + RESERVATION_LIFETIME - 1, &got), fd1,
                 "still held one second before it expires");
    close(fd1);

    cr_assert_eq(reservations_take(res, t2, T0 + 10 + RESERVATION_LIFETIME, &got), -ENOENT);
    cr_assert_not(fd_open(fd2), "the expired reservation's socket was closed");
    cr_assert_not(relay_ports_held(ports, &b2), "and its port freed");
}

/* Expiry also runs when a reservation is put, not only on take. */
Test(reservation, a_put_expires_old_reservations)
{
    union turn_addr b1, b2;
    uint8_t t1[TURN_TOKEN_LEN], t2[TURN_TOKEN_LEN];
    int fd1 = relay_socket(&b1), fd2 = relay_socket(&b2);

    cr_assert_eq(reservations_put(res, fd1, &b1, T0, t1), 0);
    cr_assert_eq(reservations_put(res, fd2, &b2, T0 + RESERVATION_LIFETIME, t2), 0);
    cr_assert_not(fd_open(fd1));
    cr_assert_not(relay_ports_held(ports, &b1));
    cr_assert(relay_ports_held(ports, &b2));
    cr_assert_eq(relay_ports_count(ports, AF_INET), 1);
}

Test(reservation, free_closes_what_is_held)
{
    union turn_addr b[2];
    uint8_t tok[TURN_TOKEN_LEN];
    int fd[2];

    for (int i = 0; i < 2; i++) {
        fd[i] = relay_socket(&b[i]);
        cr_assert_eq(reservations_put(res, fd[i], &b[i], T0, tok), 0);
    }
    reservations_free(res);
    res = NULL;
    for (int i = 0; i < 2; i++) {
        cr_assert_not(fd_open(fd[i]), "socket %d closed", i);
    }
    cr_assert_eq(relay_ports_count(ports, AF_INET), 0);
    reservations_free(NULL);
}

/* RESERVATION_MAX at once; the next is refused (its fd closed, its port
 * not marked) until one expires. dup()s of one socket stand in for the
 * relay sockets, with made-up ports. */
Test(reservation, full_table_refuses_and_closes_the_fd)
{
    struct rlimit rl;
    union turn_addr base, a, got;
    uint8_t tok[TURN_TOKEN_LEN], first[TURN_TOKEN_LEN];
    int sock = relay_socket(&base);

    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur < RESERVATION_MAX + 64) {
        rl.rlim_cur = rl.rlim_max < RESERVATION_MAX + 64 ? rl.rlim_max : RESERVATION_MAX + 64;
        setrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < RESERVATION_MAX + 64) {
            close(sock);
            cr_skip_test("needs %d file descriptors", RESERVATION_MAX + 64);
        }
    }
    for (unsigned i = 0; i < RESERVATION_MAX; i++) {
        a = base;
        turn_addr_set_port(&a, (uint16_t)(20000 + i));
        int fd = dup(sock);
        cr_assert_geq(fd, 0);
        cr_assert_eq(reservations_put(res, fd, &a, T0 + (i == 0 ? 0 : 5), i == 0 ? first : tok), 0,
                     "reservation %u", i);
    }
    cr_assert_eq(relay_ports_count(ports, AF_INET), RESERVATION_MAX);

    a = base;
    turn_addr_set_port(&a, 30000);
    int extra = dup(sock);
    cr_assert_eq(reservations_put(res, extra, &a, T0 + 6, tok), -ENOSPC);
    cr_assert_not(fd_open(extra), "the refused socket was closed");
    cr_assert_not(relay_ports_held(ports, &a));
    cr_assert_eq(relay_ports_count(ports, AF_INET), RESERVATION_MAX);

    /* the first expires (T0 + 30) and makes room; the rest stay */
    extra = dup(sock);
    cr_assert_eq(reservations_put(res, extra, &a, T0 + RESERVATION_LIFETIME, tok), 0);
    cr_assert(relay_ports_held(ports, &a));
    cr_assert_eq(reservations_take(res, first, T0 + RESERVATION_LIFETIME, &got), -ENOENT);
    cr_assert_eq(relay_ports_count(ports, AF_INET), RESERVATION_MAX);
    close(sock);
}

/* Allocates on several workers put and take at once under the lock: every
 * token finds its own socket. */
#define THREADS 4
#define ROUNDS 200

static void *worker(void *arg)
{
    union turn_addr bound = *(union turn_addr *)arg, got;
    uint8_t tok[TURN_TOKEN_LEN];
    int sock = socket(AF_INET, SOCK_DGRAM, 0);

    for (unsigned r = 0; r < ROUNDS; r++) {
        int fd = dup(sock);
        if (reservations_put(res, fd, &bound, T0, tok) < 0 ||
            reservations_take(res, tok, T0, &got) != fd || !turn_addr_equal(&got, &bound)) {
            close(sock);
            return (void *)1;
        }
        close(fd);
    }
    close(sock);
    return NULL;
}

Test(reservation, concurrent_puts_and_takes)
{
    pthread_t th[THREADS];
    union turn_addr bound[THREADS];

    for (unsigned t = 0; t < THREADS; t++) {
        cr_assert_eq(turn_addr_parse(&bound[t], "127.0.0.1", (uint16_t)(20000 + t)), 0);
        cr_assert_eq(pthread_create(&th[t], NULL, worker, &bound[t]), 0);
    }
    for (unsigned t = 0; t < THREADS; t++) {
        void *ret;
        pthread_join(th[t], &ret);
        cr_assert_null(ret, "thread %u got another's socket or none", t);
    }
    cr_assert_eq(relay_ports_count(ports, AF_INET), THREADS, "taken ports stay marked");
}
