/* UDP socket helpers for listeners: SO_REUSEPORT sockets and, for wildcard
 * binds, the destination address of each datagram (IP_PKTINFO) so that
 * answers leave from the address the client talked to. */
#ifndef RELAY_UDP_H
#define RELAY_UDP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "turn/addr.h"

/* Control buffer big enough for one IPv4 or IPv6 packet-info message. */
union udp_control {
    char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    struct cmsghdr align;
};

/* Opens a non-blocking listening socket with SO_REUSEPORT (one per worker
 * on the same address), IPv6-only for IPv6, packet info for wildcards.
 * Returns the fd or a negative errno. */
int udp_listen(const union turn_addr *addr);

/* The local address a datagram was sent to: from its packet info when the
 * socket is bound to a wildcard, else the bound address itself. */
void udp_local_addr(const struct msghdr *msg, const union turn_addr *bound, union turn_addr *local);

/* Fills ctl with a packet-info message that makes a datagram leave from
 * local; returns the control length (0 when local is not a wildcard
 * listener's, meaning no control message is needed). */
size_t udp_source_control(union udp_control *ctl, const union turn_addr *bound,
                          const union turn_addr *local);

#endif
