/* Transport addresses: a compact IPv4/IPv6 socket address and its helpers. */
#ifndef TURN_ADDR_H
#define TURN_ADDR_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "siphash.h"

/* An IPv4 or IPv6 address with port, in network byte order, as the kernel
 * wants it. 28 bytes instead of sockaddr_storage's 128. */
union turn_addr {
    struct sockaddr sa;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
};

/* Length to pass to the kernel for this address (0 if the family is unset).
 * Inline: the packet path calls it. */
static inline socklen_t turn_addr_len(const union turn_addr *a)
{
    switch (a->sa.sa_family) {
    case AF_INET:
        return sizeof(a->in4);
    case AF_INET6:
        return sizeof(a->in6);
    default:
        return 0;
    }
}

/* Address equal, port ignored. Inline: the packet path calls it. */
static inline bool turn_addr_ip_equal(const union turn_addr *a, const union turn_addr *b)
{
    if (a->sa.sa_family != b->sa.sa_family) {
        return false;
    }
    if (a->sa.sa_family == AF_INET) {
        return a->in4.sin_addr.s_addr == b->in4.sin_addr.s_addr;
    }
    return a->sa.sa_family == AF_INET6 &&
           __builtin_memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
}

_Static_assert(offsetof(struct sockaddr_in, sin_port) == 2 &&
                   offsetof(struct sockaddr_in6, sin6_port) == 2,
               "family and port are the first 4 bytes of both families");

/* Address and port equal (family, address bytes, port; scope ignored).
 * Family and port, the first 4 bytes in both families, compare as one word:
 * the packet path calls this several times per packet. */
static inline bool turn_addr_equal(const union turn_addr *a, const union turn_addr *b)
{
    uint32_t fa, fb;

    __builtin_memcpy(&fa, a, 4);
    __builtin_memcpy(&fb, b, 4);
    if (fa != fb) {
        return false;
    }
    if (a->sa.sa_family == AF_INET) {
        return a->in4.sin_addr.s_addr == b->in4.sin_addr.s_addr;
    }
    return a->sa.sa_family == AF_INET6 &&
           __builtin_memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
}

/* The unspecified address (0.0.0.0 or ::), any port. */
static inline bool turn_addr_is_wildcard(const union turn_addr *a)
{
    if (a->sa.sa_family == AF_INET6) {
        return IN6_IS_ADDR_UNSPECIFIED(&a->in6.sin6_addr);
    }
    return a->in4.sin_addr.s_addr == htonl(INADDR_ANY);
}

/* SipHash-1-3 of the IPv6 form; for turn_addr_hash. */
uint64_t turn_addr_hash6(const union turn_addr *a, const struct turn_siphash_key *key);

/* Keyed hash of family, address and port (SipHash-1-3 under a random key
 * per table), for tables that clients should not be able to aim at one
 * bucket: without the key no choice of tuples predicts a collision. The
 * message is the family's byte (4 or 6), the port and the address bytes as
 * they travel: 7 bytes for IPv4, which fit SipHash's last word and cost one
 * compression round, or 19 for IPv6. Inline: the packet path calls it. */
static inline uint64_t turn_addr_hash(const union turn_addr *a, const struct turn_siphash_key *key)
{
    if (a->sa.sa_family == AF_INET6) {
        return turn_addr_hash6(a, key);
    }
    /* the 7 bytes packed little-endian (on a big-endian host the packing
     * differs, the keying does not) */
    return turn_siphash13_short(
        key, 4 | (uint64_t)a->in4.sin_port << 8 | (uint64_t)a->in4.sin_addr.s_addr << 24, 7);
}

/* Rewrites an IPv4-mapped IPv6 address (::ffff:a.b.c.d) as plain IPv4 so that
 * every check sees one form. Other addresses are left alone. */
void turn_addr_canonical(union turn_addr *a);

/* Port in host order. Inline: the packet path calls it. */
static inline uint16_t turn_addr_port(const union turn_addr *a)
{
    return ntohs(a->sa.sa_family == AF_INET6 ? a->in6.sin6_port : a->in4.sin_port);
}

static inline void turn_addr_set_port(union turn_addr *a, uint16_t port)
{
    if (a->sa.sa_family == AF_INET6) {
        a->in6.sin6_port = htons(port);
    } else {
        a->in4.sin_port = htons(port);
    }
}

/* Parses "1.2.3.4", "1.2.3.4:5", "::1", "[::1]:5". A missing port leaves
 * default_port. Returns 0 or -EINVAL. */
int turn_addr_parse(union turn_addr *out, const char *text, uint16_t default_port);

/* Writes "1.2.3.4:5" or "[::1]:5" into buf (INET6_ADDRSTRLEN + 8 is enough).
 * For configuration output only: never call it on a client or peer address. */
const char *turn_addr_format(const union turn_addr *a, char *buf, size_t size);

/* Wire size of the address bytes: 4 or 16. */
static inline size_t turn_addr_ip_size(const union turn_addr *a)
{
    return a->sa.sa_family == AF_INET6 ? 16 : 4;
}

#endif
