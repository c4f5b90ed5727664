/* Tests for relay/relay_socket's binding (relay_socket_bind): a port of the
 * range, every port tried before the range counts as full, even ports for
 * EVEN-PORT, port + 1 held on a second socket for EVEN-PORT with R,
 * non-blocking close-on-exec sockets, DONT-FRAGMENT as path MTU discovery,
 * IPv6 sockets IPv6-only. Real UDP sockets on loopback, in a range of
 * ports this test holds itself where it needs a full range. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "relay/relay_socket.h"

/* A free block of n consecutive loopback UDP ports, found by binding them
 * (and released again), below the kernel's ephemeral range (32768 up by
 * default) so that no socket of another process is given one of them
 * between two steps of a test. */
static uint16_t free_block(unsigned n)
{
    for (uint16_t base = 20032; base < 32704; base = (uint16_t)(base + 64)) {
        int fds[64];
        unsigned ok = 0;

        for (; ok < n; ok++) {
            struct sockaddr_in sin = {.sin_family = AF_INET,
                                      .sin_port = htons((uint16_t)(base + ok)),
                                      .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
            fds[ok] = socket(AF_INET, SOCK_DGRAM, 0);
            if (bind(fds[ok], (struct sockaddr *)&sin, sizeof(sin)) < 0) {
                close(fds[ok]);
                break;
            }
        }
        for (unsigned i = 0; i < ok; i++) {
            close(fds[i]);
        }
        if (ok == n) {
            return base;
        }
    }
    cr_assert_fail("no free block of %u loopback ports", n);
    return 0;
}

static union turn_addr loopback(const char *text)
{
    union turn_addr a;

    cr_assert_eq(turn_addr_parse(&a, text, 0), 0, "%s", text);
    return a;
}

Test(relay_socket, binds_a_port_of_the_range)
{
    uint16_t base = free_block(8);
    union turn_addr ip = loopback("127.0.0.1"), bound;
    int next = -1;
    int fd = relay_socket_bind(&ip, base, (uint16_t)(base + 7), 0, &bound, &next);

    cr_assert_geq(fd, 0, "bind: %s", strerror(-fd));
    cr_assert_eq(next, -1, "no second socket without RESERVE_NEXT");
    cr_assert(turn_addr_ip_equal(&bound, &ip));
    cr_assert_geq(turn_addr_port(&bound), base);
    cr_assert_leq(turn_addr_port(&bound), base + 7);

    union turn_addr real;
    socklen_t len = sizeof(real);
    cr_assert_eq(getsockname(fd, &real.sa, &len), 0);
    cr_assert_eq(turn_addr_port(&real), turn_addr_port(&bound), "bound reports the real port");
    cr_assert(fcntl(fd, F_GETFL) & O_NONBLOCK, "non-blocking");
    cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC, "close-on-exec");
    close(fd);
}

Test(relay_socket, tries_every_port_then_reports_the_range_full)
{
    uint16_t base = free_block(6);
    union turn_addr ip = loopback("127.0.0.1"), bound;
    int fds[6], next = -1, seen = 0;
    uint16_t ports[6];

    for (int i = 0; i < 6; i++) {
        fds[i] = relay_socket_bind(&ip, base, (uint16_t)(base + 5), 0, &bound, &next);
        cr_assert_geq(fds[i], 0, "port %d of 6: %s", i + 1, strerror(-fds[i]));
        ports[i] = turn_addr_port(&bound);
        seen |= 1 << (ports[i] - base);
    }
    cr_assert_eq(seen, 0x3F, "each of the 6 ports once (got mask 0x%x)", seen);
    cr_assert_eq(relay_socket_bind(&ip, base, (uint16_t)(base + 5), 0, &bound, &next), -EADDRINUSE,
                 "a full range is -EADDRINUSE");
    close(fds[3]);
    int again = relay_socket_bind(&ip, base, (uint16_t)(base + 5), 0, &bound, &next);
    cr_assert_geq(again, 0, "the freed port is found");
    cr_assert_eq(turn_addr_port(&bound), ports[3], "the one free port of the range");
    close(again);
    for (int i = 0; i < 6; i++) {
        if (i != 3) {
            close(fds[i]);
        }
    }
}

Test(relay_socket, even_port_gives_even_ports_only)
{
    uint16_t base = free_block(8);
    union turn_addr ip = loopback("127.0.0.1"), bound;
    int fds[4], next = -1;

    for (int i = 0; i < 4; i++) {
        fds[i] =
            relay_socket_bind(&ip, base, (uint16_t)(base + 7), TURN_RELAY_EVEN_PORT, &bound, &next);
        cr_assert_geq(fds[i], 0, "even port %d of 4", i + 1);
        cr_assert_eq(turn_addr_port(&bound) % 2, 0, "port %u is even", turn_addr_port(&bound));
    }
    cr_assert_eq(
        relay_socket_bind(&ip, base, (uint16_t)(base + 7), TURN_RELAY_EVEN_PORT, &bound, &next),
        -EADDRINUSE, "odd ports left, no even one: full");
    for (int i = 0; i < 4; i++) {
        close(fds[i]);
    }
}

Test(relay_socket, reserve_next_holds_the_odd_port_above)
{
    uint16_t base = free_block(8);
    union turn_addr ip = loopback("127.0.0.1"), bound, next_addr;
    int next = -1;
    int fd =
        relay_socket_bind(&ip, base, (uint16_t)(base + 7), TURN_RELAY_RESERVE_NEXT, &bound, &next);
    socklen_t len = sizeof(next_addr);

    cr_assert_geq(fd, 0);
    cr_assert_eq(turn_addr_port(&bound) % 2, 0, "the allocation's port is even");
    cr_assert_geq(next, 0, "port + 1 is held on a second socket");
    cr_assert_eq(getsockname(next, &next_addr.sa, &len), 0);
    cr_assert_eq(turn_addr_port(&next_addr), turn_addr_port(&bound) + 1);
    close(next);
    close(fd);
}

Test(relay_socket, reserve_next_skips_a_pair_whose_odd_port_is_taken)
{
    uint16_t base = free_block(2);
    union turn_addr ip = loopback("127.0.0.1"), bound;
    struct sockaddr_in odd = {.sin_family = AF_INET,
                              .sin_port = htons((uint16_t)(base + 1)),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int blocker = socket(AF_INET, SOCK_DGRAM, 0), next = -1;

    cr_assert_eq(bind(blocker, (struct sockaddr *)&odd, sizeof(odd)), 0);
    cr_assert_eq(
        relay_socket_bind(&ip, base, (uint16_t)(base + 1), TURN_RELAY_RESERVE_NEXT, &bound, &next),
        -EADDRINUSE, "the only pair cannot be held whole");
    cr_assert_eq(next, -1);
    close(blocker);
    int fd =
        relay_socket_bind(&ip, base, (uint16_t)(base + 1), TURN_RELAY_RESERVE_NEXT, &bound, &next);
    cr_assert_geq(fd, 0, "the even port was not left bound by the failed try");
    close(next);
    close(fd);
}

Test(relay_socket, dont_fragment_turns_path_mtu_discovery_on)
{
    uint16_t base = free_block(2);
    union turn_addr ip = loopback("127.0.0.1"), bound;
    int next = -1, pmtu = -1;
    socklen_t len = sizeof(pmtu);
    int fd =
        relay_socket_bind(&ip, base, (uint16_t)(base + 1), TURN_RELAY_DONT_FRAGMENT, &bound, &next);

    cr_assert_geq(fd, 0);
    cr_assert_eq(getsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, &len), 0);
    cr_assert_eq(pmtu, IP_PMTUDISC_DO);
    close(fd);
    fd = relay_socket_bind(&ip, base, (uint16_t)(base + 1), 0, &bound, &next);
    len = sizeof(pmtu);
    cr_assert_eq(getsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, &len), 0);
    cr_assert_neq(pmtu, IP_PMTUDISC_DO, "without the flag the system default stays");
    close(fd);
}

Test(relay_socket, ipv6_sockets_are_ipv6_only)
{
    union turn_addr ip = loopback("::1"), bound;
    int next = -1, v6only = 0;
    socklen_t len = sizeof(v6only);
    int probe = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};

    if (probe < 0 || bind(probe, (struct sockaddr *)&sin6, sizeof(sin6)) < 0) {
        if (probe >= 0) {
            close(probe);
        }
        cr_skip_test("no IPv6 loopback on this host");
    }
    close(probe);
    int fd = relay_socket_bind(&ip, 42000, 59999, 0, &bound, &next);
    cr_assert_geq(fd, 0, "bind on ::1: %s", strerror(-fd));
    cr_assert_eq(bound.sa.sa_family, AF_INET6);
    cr_assert_eq(getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len), 0);
    cr_assert_eq(v6only, 1);
    close(fd);
}
