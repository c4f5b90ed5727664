/* Configuration values that fill string lists from richer text: secrets read
 * from a file (auth-secret-file) and peer rules (allow-peer, deny-peer) as
 * CIDR blocks, with coturn's FIRST-LAST ranges accepted when they are one. */
#include "relay/config_parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define QUOTE_MAX 72

int br_cfg_secret_file(const struct br_parse *p, const struct br_key *k, const char *path)
{
    struct br_strlist *l = br_cfg_field(p->cfg, k->off);
    size_t before = l->n, cap = 0;
    char *line = NULL, q[QUOTE_MAX];
    int rc = 0, read_errno = 0;
    FILE *f;

    if (!*path) {
        return br_cfg_fail(p, "missing value");
    }
    f = fopen(path, "re");
    if (!f) {
        return br_cfg_fail(p, "cannot read '%s': %s", br_cfg_quote(q, sizeof(q), path),
                           strerror(errno));
    }
    errno = 0;
    while (getline(&line, &cap, f) >= 0) {
        char *s = br_cfg_trim(line);
        if (*s && *s != '#' && (rc = br_cfg_strlist_add(p, l, s)) < 0) {
            break;
        }
    }
    read_errno = errno;
    if (rc == 0 && ferror(f)) {
        rc = br_cfg_fail(p, "cannot read '%s': %s", br_cfg_quote(q, sizeof(q), path),
                         strerror(read_errno ? read_errno : EIO));
    } else if (rc == 0 && l->n == before) {
        rc = br_cfg_fail(p, "'%s' holds no secret", br_cfg_quote(q, sizeof(q), path));
    }
    if (line) {
        OPENSSL_cleanse(line, cap);
        free(line);
    }
    fclose(f);
    return rc;
}

static unsigned bit_at(const uint8_t *ip, unsigned i)
{
    return (ip[i / 8] >> (7 - i % 8)) & 1u;
}

static int parse_ip(const char *text, size_t n, int *family, uint8_t ip[16])
{
    char buf[INET6_ADDRSTRLEN + 1];

    if (n == 0 || n >= sizeof(buf)) {
        return -EINVAL;
    }
    memcpy(buf, text, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET, buf, ip) == 1) {
        *family = AF_INET;
    } else if (inet_pton(AF_INET6, buf, ip) == 1) {
        *family = AF_INET6;
    } else {
        return -EINVAL;
    }
    return 0;
}

/* coturn writes peer rules as FIRST-LAST; keep those that are one block. */
static int parse_range(const struct br_parse *p, const char *val, const char *dash, int *family,
                       uint8_t ip[16], unsigned *prefix)
{
    uint8_t last[16];
    int family2 = 0;
    unsigned bits, n = 0;
    char q[QUOTE_MAX];

    if (parse_ip(val, (size_t)(dash - val), family, ip) < 0 ||
        parse_ip(dash + 1, strlen(dash + 1), &family2, last) < 0 || *family != family2) {
        return br_cfg_fail(p, "expected ADDR/PREFIX or FIRST-LAST, got '%s'",
                           br_cfg_quote(q, sizeof(q), val));
    }
    bits = *family == AF_INET ? 32 : 128;
    while (n < bits && bit_at(ip, n) == bit_at(last, n)) {
        n++;
    }
    for (unsigned i = n; i < bits; i++) {
        if (bit_at(ip, i) != 0 || bit_at(last, i) != 1) {
            return br_cfg_fail(p, "range '%s' is not one CIDR block; write it as ADDR/PREFIX rules",
                               br_cfg_quote(q, sizeof(q), val));
        }
    }
    *prefix = n;
    return 0;
}

static int parse_prefix(const struct br_parse *p, const char *val, int *family, uint8_t ip[16],
                        unsigned *prefix)
{
    const char *slash = strchr(val, '/');
    char q[QUOTE_MAX], host[INET6_ADDRSTRLEN];
    uint32_t bits, n;

    if (parse_ip(val, slash ? (size_t)(slash - val) : strlen(val), family, ip) < 0 ||
        (slash && br_cfg_parse_u32(slash + 1, &n) < 0)) {
        return br_cfg_fail(p, "expected ADDR/PREFIX, got '%s'", br_cfg_quote(q, sizeof(q), val));
    }
    bits = *family == AF_INET ? 32 : 128;
    if (!slash) {
        n = bits;
    } else if (n > bits) {
        return br_cfg_fail(p, "prefix must be between 0 and %u", (unsigned)bits);
    }
    for (unsigned i = n; i < bits; i++) {
        if (bit_at(ip, i)) {
            for (unsigned j = n; j < bits; j++) {
                ip[j / 8] &= (uint8_t) ~(0x80u >> (j % 8));
            }
            inet_ntop(*family, ip, host, sizeof(host));
            return br_cfg_fail(p, "host bits are set in '%s'; did you mean %s/%u?",
                               br_cfg_quote(q, sizeof(q), val), host, (unsigned)n);
        }
    }
    *prefix = n;
    return 0;
}

int br_cfg_cidr(const struct br_parse *p, const struct br_key *k, const char *val)
{
    const char *dash = strchr(val, '-');
    char host[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 8];
    uint8_t ip[16] = {0};
    unsigned prefix = 0;
    int family = 0, rc;

    rc = dash ? parse_range(p, val, dash, &family, ip, &prefix)
              : parse_prefix(p, val, &family, ip, &prefix);
    if (rc < 0) {
        return rc;
    }
    inet_ntop(family, ip, host, sizeof(host));
    snprintf(text, sizeof(text), "%s/%u", host, prefix);
    return br_cfg_strlist_add(p, br_cfg_field(p->cfg, k->off), text);
}
