/* UDP listener sockets and packet-info handling. */
#include "udp.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define LISTEN_BUFFER (4 << 20)

int udp_listen(const union turn_addr *addr)
{
    int one = 1, size = LISTEN_BUFFER;
    bool v6 = addr->sa.sa_family == AF_INET6;
    int fd = socket(addr->sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        return -errno;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    /* best effort: capped by net.core.rmem_max / wmem_max */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    if (v6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    }
    if (turn_addr_is_wildcard(addr)) {
        if (v6) {
            setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
        } else {
            setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
        }
    }
    if (bind(fd, &addr->sa, turn_addr_len(addr)) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

void udp_local_addr(const struct msghdr *msg, const union turn_addr *bound, union turn_addr *local)
{
    *local = *bound;
    if (!turn_addr_is_wildcard(bound)) {
        return;
    }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            local->in4.sin_addr = pi.ipi_addr;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            local->in6.sin6_addr = pi.ipi6_addr;
        }
    }
}

size_t udp_source_control(union udp_control *ctl, const union turn_addr *bound,
                          const union turn_addr *local)
{
    struct msghdr msg = {.msg_control = ctl->buf, .msg_controllen = sizeof(ctl->buf)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

    if (!turn_addr_is_wildcard(bound) || turn_addr_is_wildcard(local)) {
        return 0;
    }
    memset(ctl, 0, sizeof(*ctl));
    if (local->sa.sa_family == AF_INET6) {
        struct in6_pktinfo pi = {.ipi6_addr = local->in6.sin6_addr};
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(pi));
        memcpy(CMSG_DATA(c), &pi, sizeof(pi));
        return CMSG_SPACE(sizeof(pi));
    }
    struct in_pktinfo pi = {.ipi_spec_dst = local->in4.sin_addr};
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(pi));
    memcpy(CMSG_DATA(c), &pi, sizeof(pi));
    return CMSG_SPACE(sizeof(pi));
}
