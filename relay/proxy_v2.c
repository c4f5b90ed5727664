/* PROXY protocol version 2 header parser and the trusted-proxy list
 * (haproxy's proxy-protocol.txt 2.2). Every byte is checked as soon as it
 * is there, so garbage is refused at its first wrong byte.
 *
 *   0           12        13         14     16
 *  +-----------+---------+----------+------+-----------+------------------+
 *  | signature | ver|cmd | fam|prot | len  | addresses | TLVs: T, L(2), V |
 *  |   (12)    | 2 | 0/1 | 1/2 | 1  | (BE) | v4 12, v6 36 bytes           |
 *  +-----------+---------+----------+------+-----------+------------------+
 *                                          |<---------- len ------------->|
 */
#include "proxy_v2.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                      0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

#define CMD_LOCAL 0x20
#define CMD_PROXY 0x21
#define TCP_OVER_IPV4 0x11
#define TCP_OVER_IPV6 0x21
#define IPV4_BLOCK 12
#define IPV6_BLOCK 36
#define TLV_HEADER 3

/* The fixed part, as far as it is there. Returns 0 (all valid so far),
 * -EINVAL or -EMSGSIZE. */
static int check_fixed(const uint8_t *buf, size_t len)
{
    size_t n = len < sizeof(signature) ? len : sizeof(signature);
    size_t body;

    if (memcmp(buf, signature, n) != 0) {
        return -EINVAL;
    }
    if (len > 12 && buf[12] != CMD_LOCAL && buf[12] != CMD_PROXY) {
        return -EINVAL; /* version 2 only; commands other than these are refused */
    }
    /* LOCAL: the receiver ignores the family (the proxy's own connection) */
    if (len > 13 && buf[12] == CMD_PROXY && buf[13] != TCP_OVER_IPV4 && buf[13] != TCP_OVER_IPV6) {
        return -EINVAL;
    }
    if (len < PROXY_V2_FIXED_LEN) {
        return 0;
    }
    body = (size_t)buf[14] << 8 | buf[15];
    if (PROXY_V2_FIXED_LEN + body > PROXY_V2_MAX_LEN) {
        return -EMSGSIZE;
    }
    if (buf[12] == CMD_PROXY && body < (buf[13] == TCP_OVER_IPV4 ? IPV4_BLOCK : IPV6_BLOCK)) {
        return -EINVAL;
    }
    return 0;
}

/* TLVs are skipped, but they must fill the rest of the header exactly. */
static int check_tlvs(const uint8_t *p, size_t len)
{
    while (len > 0) {
        size_t vlen;

        if (len < TLV_HEADER) {
            return -EINVAL;
        }
        vlen = (size_t)p[1] << 8 | p[2];
        if (vlen > len - TLV_HEADER) {
            return -EINVAL;
        }
        p += TLV_HEADER + vlen;
        len -= TLV_HEADER + vlen;
    }
    return 0;
}

static void read_addrs(const uint8_t *p, bool v6, struct proxy_v2_header *out)
{
    memset(&out->src, 0, sizeof(out->src));
    memset(&out->dst, 0, sizeof(out->dst));
    if (v6) {
        out->src.in6.sin6_family = AF_INET6;
        out->dst.in6.sin6_family = AF_INET6;
        memcpy(&out->src.in6.sin6_addr, p, 16);
        memcpy(&out->dst.in6.sin6_addr, p + 16, 16);
        memcpy(&out->src.in6.sin6_port, p + 32, 2);
        memcpy(&out->dst.in6.sin6_port, p + 34, 2);
        return;
    }
    out->src.in4.sin_family = AF_INET;
    out->dst.in4.sin_family = AF_INET;
    memcpy(&out->src.in4.sin_addr, p, 4);
    memcpy(&out->dst.in4.sin_addr, p + 4, 4);
    memcpy(&out->src.in4.sin_port, p + 8, 2);
    memcpy(&out->dst.in4.sin_port, p + 10, 2);
}

int proxy_v2_parse(const uint8_t *buf, size_t len, struct proxy_v2_header *out, size_t *hlen)
{
    size_t total, block;
    bool v6;
    int rc = check_fixed(buf, len);

    if (rc < 0) {
        return rc;
    }
    if (len < PROXY_V2_FIXED_LEN) {
        *hlen = PROXY_V2_FIXED_LEN;
        return -EAGAIN;
    }
    total = PROXY_V2_FIXED_LEN + ((size_t)buf[14] << 8 | buf[15]);
    *hlen = total;
    if (len < total) {
        return -EAGAIN;
    }
    memset(out, 0, sizeof(*out));
    if (buf[12] == CMD_LOCAL) {
        out->local = true;
        return 0;
    }
    v6 = buf[13] == TCP_OVER_IPV6;
    block = v6 ? IPV6_BLOCK : IPV4_BLOCK;
    if (check_tlvs(buf + PROXY_V2_FIXED_LEN + block, total - PROXY_V2_FIXED_LEN - block) < 0) {
        return -EINVAL;
    }
    read_addrs(buf + PROXY_V2_FIXED_LEN, v6, out);
    return 0;
}

int proxy_v2_trust_add(struct proxy_v2_trust *t, const char *cidr)
{
    char host[INET6_ADDRSTRLEN];
    const char *slash = strchr(cidr, '/');
    size_t n = slash ? (size_t)(slash - cidr) : strlen(cidr);
    unsigned long prefix;
    char *end;
    int family;
    uint8_t ip[16] = {0};

    if (n == 0 || n >= sizeof(host)) {
        return -EINVAL;
    }
    memcpy(host, cidr, n);
    host[n] = '\0';
    if (inet_pton(AF_INET, host, ip) == 1) {
        family = AF_INET;
    } else if (inet_pton(AF_INET6, host, ip) == 1) {
        family = AF_INET6;
    } else {
        return -EINVAL;
    }
    prefix = family == AF_INET ? 32 : 128;
    if (slash) {
        if (slash[1] < '0' || slash[1] > '9') {
            return -EINVAL;
        }
        prefix = strtoul(slash + 1, &end, 10);
        if (*end || prefix > (family == AF_INET ? 32u : 128u)) {
            return -EINVAL;
        }
    }
    if (t->n >= PROXY_V2_MAX_TRUSTED) {
        return -ENOSPC;
    }
    t->nets[t->n].family = (uint8_t)family;
    t->nets[t->n].prefix = (uint8_t)prefix;
    memcpy(t->nets[t->n].ip, ip, sizeof(ip));
    t->n++;
    return 0;
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned bytes = bits / 8, rest = bits % 8;
    uint8_t mask = (uint8_t)(0xFFu << (8 - rest));

    return memcmp(a, b, bytes) == 0 && (rest == 0 || ((a[bytes] ^ b[bytes]) & mask) == 0);
}

bool proxy_v2_trusted(const struct proxy_v2_trust *t, const union turn_addr *addr)
{
    union turn_addr a = *addr;
    const uint8_t *ip;

    turn_addr_canonical(&a);
    ip = a.sa.sa_family == AF_INET ? (const uint8_t *)&a.in4.sin_addr
                                   : (const uint8_t *)&a.in6.sin6_addr;
    if (a.sa.sa_family != AF_INET && a.sa.sa_family != AF_INET6) {
        return false;
    }
    for (size_t i = 0; i < t->n; i++) {
        if (t->nets[i].family == a.sa.sa_family &&
            prefix_equal(ip, t->nets[i].ip, t->nets[i].prefix)) {
            return true;
        }
    }
    return false;
}
