/* PROXY protocol version 2 (haproxy's proxy-protocol.txt, section 2.2): the
 * binary header a layer-4 load balancer puts in front of a TCP stream to
 * name the client it accepted, and the list of proxies trusted to send it.
 * Sans-I/O: bytes in, verdicts out; no sockets, no event loop. */
#ifndef RELAY_PROXY_V2_H
#define RELAY_PROXY_V2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "turn/addr.h"

/* The signature, version and command, family and protocol, and length. */
#define PROXY_V2_FIXED_LEN 16
/* The longest header accepted, fixed part included: an IPv6 address block
 * (36 bytes) and room for the TLVs load balancers add (cloud endpoint ids,
 * SSL notes); the protocol allows 65535 bytes, which would pin memory per
 * waiting connection for no use here. */
#define PROXY_V2_MAX_LEN 512

struct proxy_v2_header {
    bool local;          /* LOCAL command: the proxy's own connection (a health check) */
    union turn_addr src; /* PROXY command: the client as the proxy saw it */
    union turn_addr dst; /* ... and the address it connected to */
};

/* Parses the header at the start of buf (len bytes there). Returns:
 * 0 with *hlen the header's length and out filled: a whole valid header;
 * -EAGAIN with *hlen the bytes needed before it can say more (more than
 *    len, at most PROXY_V2_MAX_LEN): every byte so far is valid;
 * -EMSGSIZE: the header announces more than PROXY_V2_MAX_LEN bytes;
 * -EINVAL: anything else: a wrong signature, version or command, a family
 *    other than IPv4 or IPv6 over STREAM, an address block longer than the
 *    header, TLVs that do not fill it exactly.
 * Never reads past buf[len - 1], nor past buf[*hlen - 1] of a whole header. */
int proxy_v2_parse(const uint8_t *buf, size_t len, struct proxy_v2_header *out, size_t *hlen);

#define PROXY_V2_MAX_TRUSTED 64

/* The addresses allowed to send a header (proxy-protocol-from), as value. */
struct proxy_v2_trust {
    struct {
        uint8_t family; /* AF_INET or AF_INET6 */
        uint8_t prefix;
        uint8_t ip[16];
    } nets[PROXY_V2_MAX_TRUSTED];
    size_t n;
};

/* Adds "ADDR/PREFIX" or "ADDR" (IPv4 or IPv6). Returns 0, -EINVAL (bad
 * text, prefix too long) or -ENOSPC (past PROXY_V2_MAX_TRUSTED). */
int proxy_v2_trust_add(struct proxy_v2_trust *t, const char *cidr);

/* Whether addr (port ignored; an IPv4-mapped IPv6 address counts as IPv4)
 * lies in one of t's networks. */
bool proxy_v2_trusted(const struct proxy_v2_trust *t, const union turn_addr *addr);

#endif
