/* Transport address helpers. */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t turn_addr_hash6(const union turn_addr *a, const struct turn_siphash_key *key)
{
    uint8_t m[19];

    m[0] = 6;
    memcpy(&m[1], &a->in6.sin6_port, 2);
    memcpy(&m[3], &a->in6.sin6_addr, 16);
    return turn_siphash13(key, m, sizeof(m));
}

void turn_addr_canonical(union turn_addr *a)
{
    if (a->sa.sa_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&a->in6.sin6_addr)) {
        return;
    }
    struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = a->in6.sin6_port};
    memcpy(&v4.sin_addr.s_addr, &a->in6.sin6_addr.s6_addr[12], 4);
    memset(a, 0, sizeof(*a));
    a->in4 = v4;
}

static int parse_port(const char *text, uint16_t *port)
{
    char *end;
    unsigned long v;

    if (*text < '0' || *text > '9') {
        return -EINVAL;
    }
    errno = 0;
    v = strtoul(text, &end, 10);
    if (errno || *end || v > 65535) {
        return -EINVAL;
    }
    *port = (uint16_t)v;
    return 0;
}

int turn_addr_parse(union turn_addr *out, const char *text, uint16_t default_port)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *port_text = NULL;
    uint16_t port = default_port;
    size_t n;

    memset(out, 0, sizeof(*out));
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close) {
            return -EINVAL;
        }
        n = (size_t)(close - text - 1);
        if (close[1] == ':') {
            port_text = close + 2;
        } else if (close[1] != '\0') {
            return -EINVAL;
        }
        text++;
    } else {
        const char *colon = strchr(text, ':');
        if (colon && strchr(colon + 1, ':')) {
            colon = NULL; /* bare IPv6 */
        }
        n = colon ? (size_t)(colon - text) : strlen(text);
        port_text = colon ? colon + 1 : NULL;
    }
    if (n == 0 || n >= sizeof(host)) {
        return -EINVAL;
    }
    memcpy(host, text, n);
    host[n] = '\0';
    if (port_text && parse_port(port_text, &port) < 0) {
        return -EINVAL;
    }
    if (inet_pton(AF_INET, host, &out->in4.sin_addr) == 1) {
        out->in4.sin_family = AF_INET;
    } else if (inet_pton(AF_INET6, host, &out->in6.sin6_addr) == 1) {
        out->in6.sin6_family = AF_INET6;
    } else {
        return -EINVAL;
    }
    turn_addr_set_port(out, port);
    return 0;
}

const char *turn_addr_format(const union turn_addr *a, char *buf, size_t size)
{
    char host[INET6_ADDRSTRLEN];

    if (a->sa.sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &a->in6.sin6_addr, host, sizeof(host));
        snprintf(buf, size, "[%s]:%u", host, turn_addr_port(a));
    } else if (a->sa.sa_family == AF_INET) {
        inet_ntop(AF_INET, &a->in4.sin_addr, host, sizeof(host));
        snprintf(buf, size, "%s:%u", host, turn_addr_port(a));
    } else {
        snprintf(buf, size, "(none)");
    }
    return buf;
}
