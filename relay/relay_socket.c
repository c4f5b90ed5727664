/* Relay socket binding from the configured port range. */
#include "relay_sock.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>

static int new_socket(int family, unsigned flags)
{
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;

    if (fd < 0) {
        return -errno;
    }
    if (family == AF_INET6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    }
    if (flags & TURN_RELAY_DONT_FRAGMENT) {
        int pmtu = IP_PMTUDISC_DO;
        if (family == AF_INET) {
            setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
        } else {
            setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof(pmtu));
        }
    }
    return fd;
}

/* A random port in the range, even when asked: ports are unpredictable to
 * off-path attackers (RFC 8656 7.2 recommends it). */
static uint16_t random_start(uint16_t min, uint16_t max, bool even)
{
    uint32_t r = 0;

    RAND_bytes((unsigned char *)&r, sizeof(r));
    uint16_t port = (uint16_t)(min + r % ((uint32_t)max - min + 1));
    if (even && (port & 1)) {
        port = port > min ? port - 1 : port + 1;
    }
    return port;
}

static int bind_port(int fd, union turn_addr *addr, uint16_t port)
{
    turn_addr_set_port(addr, port);
    return bind(fd, &addr->sa, turn_addr_len(addr)) == 0 ? 0 : -errno;
}

/* With TURN_RELAY_RESERVE_NEXT, port + 1 must be bindable too: it is bound
 * on *next_fd and held for the RESERVATION-TOKEN. */
static int bind_next(const union turn_addr *bound, unsigned flags, int *next_fd)
{
    union turn_addr next = *bound;
    int fd, err;

    if (!(flags & TURN_RELAY_RESERVE_NEXT)) {
        return 0;
    }
    fd = new_socket(bound->sa.sa_family, flags);
    if (fd < 0) {
        return fd;
    }
    err = bind_port(fd, &next, (uint16_t)(turn_addr_port(bound) + 1));
    if (err < 0) {
        close(fd);
        return err;
    }
    *next_fd = fd;
    return 0;
}

int relay_sock_bind(const union turn_addr *ip, uint16_t port_min, uint16_t port_max, unsigned flags,
                    union turn_addr *bound, int *next_fd)
{
    bool even = flags & (TURN_RELAY_EVEN_PORT | TURN_RELAY_RESERVE_NEXT);
    uint32_t span = (uint32_t)port_max - port_min + 1;
    uint16_t start = random_start(port_min, port_max, even);

    *bound = *ip;
    for (uint32_t tried = 0; tried < span; tried++) {
        uint16_t p = (uint16_t)(port_min + (start - port_min + tried) % span);
        if ((even && (p & 1)) || ((flags & TURN_RELAY_RESERVE_NEXT) && p == port_max)) {
            continue;
        }
        int fd = new_socket(ip->sa.sa_family, flags);
        if (fd < 0) {
            return fd;
        }
        int err = bind_port(fd, bound, p);
        if (err == 0) {
            err = bind_next(bound, flags, next_fd);
        }
        if (err == 0) {
            return fd;
        }
        close(fd);
        if (err != -EADDRINUSE && err != -EACCES) {
            return err;
        }
    }
    return -EADDRINUSE;
}
