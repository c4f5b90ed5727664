/* Value parsers for the configuration key types (addresses, port ranges,
 * numbers, secrets, peer CIDRs). Each writes one error line and fails on
 * bad input; none ever quotes a secret or a password. */
#include "relay/config_parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "turn/auth.h"

#define QUOTE_MAX 72

int br_cfg_fail(const struct br_parse *p, const char *fmt, ...)
{
    va_list ap;

    fputs("blindrelay: ", p->err);
    if (p->src == BR_SRC_FILE) {
        fprintf(p->err, "%s:%u: ", p->file, p->line);
    }
    fprintf(p->err, "%s%s: ", p->src == BR_SRC_FLAG ? "--" : "", p->typed);
    va_start(ap, fmt);
    vfprintf(p->err, fmt, ap);
    va_end(ap);
    fputc('\n', p->err);
    return -EINVAL;
}

const char *br_cfg_quote(char *buf, size_t size, const char *val)
{
    size_t i = 0;

    for (; val[i] && i + 1 < size; i++) {
        unsigned char c = (unsigned char)val[i];
        buf[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    buf[i] = '\0';
    if (val[i] && size > 4) {
        memcpy(buf + size - 4, "...", 4);
    }
    return buf;
}

char *br_cfg_trim(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
        s++;
    }
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n')) {
        *--end = '\0';
    }
    return s;
}

int br_cfg_parse_u32(const char *text, uint32_t *out)
{
    uint64_t v = 0;

    if (!*text) {
        return -EINVAL;
    }
    for (; *text; text++) {
        if (*text < '0' || *text > '9') {
            return -EINVAL;
        }
        v = v * 10 + (uint64_t)(*text - '0');
        if (v > UINT32_MAX) {
            return -EINVAL;
        }
    }
    *out = (uint32_t)v;
    return 0;
}

static void strlist_clear(struct br_strlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        OPENSSL_cleanse(l->items[i], strlen(l->items[i]));
        free(l->items[i]);
        l->items[i] = NULL;
    }
    l->n = 0;
}

int br_cfg_strlist_add(const struct br_parse *p, struct br_strlist *l, const char *val)
{
    if (l->n >= BR_MAX_LIST) {
        return br_cfg_fail(p, "too many values (at most %d)", BR_MAX_LIST);
    }
    l->items[l->n] = strdup(val);
    if (!l->items[l->n]) {
        br_cfg_fail(p, "out of memory");
        return -ENOMEM;
    }
    l->n++;
    return 0;
}

static int set_addrs(const struct br_parse *p, const struct br_key *k, const char *val)
{
    union turn_addr *list = br_cfg_field(p->cfg, k->off), a;
    size_t *n = br_cfg_field(p->cfg, k->off2);
    char q[QUOTE_MAX];

    if (turn_addr_parse(&a, val, k->port) < 0) {
        return br_cfg_fail(p, "expected ADDR:PORT, got '%s'", br_cfg_quote(q, sizeof(q), val));
    }
    if (turn_addr_port(&a) == 0) {
        return br_cfg_fail(p, "port must be between 1 and 65535");
    }
    turn_addr_canonical(&a);
    for (size_t i = 0; i < *n; i++) {
        if (turn_addr_equal(&list[i], &a)) {
            return br_cfg_fail(p, "'%s' is given twice", br_cfg_quote(q, sizeof(q), val));
        }
    }
    if (*n >= BR_MAX_LISTEN) {
        return br_cfg_fail(p, "too many addresses (at most %d)", BR_MAX_LISTEN);
    }
    list[(*n)++] = a;
    return 0;
}

static int set_ip(const struct br_parse *p, const struct br_key *k, const char *val)
{
    union turn_addr a = {0}, *dst;
    char q[QUOTE_MAX];

    if (inet_pton(AF_INET, val, &a.in4.sin_addr) == 1) {
        a.sa.sa_family = AF_INET;
    } else if (inet_pton(AF_INET6, val, &a.in6.sin6_addr) == 1) {
        a.sa.sa_family = AF_INET6;
        turn_addr_canonical(&a);
    } else if (strchr(val, '/')) {
        return br_cfg_fail(p,
                           "expected an IP address, got '%s' (for coturn's PUBLIC/PRIVATE form, "
                           "set external-ip=PUBLIC and relay-ip=PRIVATE)",
                           br_cfg_quote(q, sizeof(q), val));
    } else {
        return br_cfg_fail(p, "expected an IP address, got '%s'", br_cfg_quote(q, sizeof(q), val));
    }
    if (turn_addr_is_wildcard(&a)) {
        return br_cfg_fail(p, "must be a specific address, not a wildcard");
    }
    dst = br_cfg_field(p->cfg, a.sa.sa_family == AF_INET ? k->off : k->off2);
    if (dst->sa.sa_family != 0) {
        return br_cfg_fail(p, "an %s address is already set (give at most one per family)",
                           a.sa.sa_family == AF_INET ? "IPv4" : "IPv6");
    }
    *dst = a;
    return 0;
}

static int check_range(const struct br_parse *p, const struct br_key *k, const char *text,
                       uint32_t *out)
{
    char q[QUOTE_MAX];

    if (br_cfg_parse_u32(text, out) < 0) {
        return br_cfg_fail(p, "expected a number, got '%s'", br_cfg_quote(q, sizeof(q), text));
    }
    if (*out < k->min || *out > k->max) {
        return br_cfg_fail(p, "must be between %u and %u", (unsigned)k->min, (unsigned)k->max);
    }
    return 0;
}

static int set_ports(const struct br_parse *p, const struct br_key *k, const char *val)
{
    char lo[16], q[QUOTE_MAX];
    const char *dash = strchr(val, '-');
    uint32_t min, max;
    int rc;

    if (!dash || (size_t)(dash - val) >= sizeof(lo)) {
        return br_cfg_fail(p, "expected MIN-MAX, got '%s'", br_cfg_quote(q, sizeof(q), val));
    }
    memcpy(lo, val, (size_t)(dash - val));
    lo[dash - val] = '\0';
    if (br_cfg_parse_u32(lo, &min) < 0 || br_cfg_parse_u32(dash + 1, &max) < 0) {
        return br_cfg_fail(p, "expected MIN-MAX, got '%s'", br_cfg_quote(q, sizeof(q), val));
    }
    if ((rc = check_range(p, k, lo, &min)) < 0 || (rc = check_range(p, k, dash + 1, &max)) < 0) {
        return rc;
    }
    if (min > max) {
        return br_cfg_fail(p, "MIN (%u) must not exceed MAX (%u)", (unsigned)min, (unsigned)max);
    }
    *(uint16_t *)br_cfg_field(p->cfg, k->off) = (uint16_t)min;
    *(uint16_t *)br_cfg_field(p->cfg, k->off2) = (uint16_t)max;
    return 0;
}

static int set_number(const struct br_parse *p, const struct br_key *k, const char *val)
{
    uint32_t v = 0;
    bool is_auto = k->type == BR_T_UINT && k->off2 && strcmp(val, "auto") == 0;
    int rc = is_auto ? 0 : check_range(p, k, val, &v);

    if (rc < 0) {
        return rc;
    }
    if (k->type == BR_T_UINT && k->off2) {
        *(bool *)br_cfg_field(p->cfg, k->off2) = is_auto;
    }
    if (k->type == BR_T_PORT) {
        *(uint16_t *)br_cfg_field(p->cfg, k->off) = (uint16_t)v;
    } else {
        *(uint32_t *)br_cfg_field(p->cfg, k->off) = v;
    }
    return 0;
}

static int set_bool(const struct br_parse *p, const struct br_key *k, const char *val)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    bool *b = br_cfg_field(p->cfg, k->off);
    char q[QUOTE_MAX];

    if (!val) {
        *b = true;
        return 0;
    }
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(val, yes[i]) == 0 || strcasecmp(val, no[i]) == 0) {
            *b = strcasecmp(val, yes[i]) == 0;
            return 0;
        }
    }
    return br_cfg_fail(p, "expected true/false, yes/no, on/off or 1/0, got '%s'",
                       br_cfg_quote(q, sizeof(q), val));
}

/* REALM is sent in a quoted-string (RFC 8489 section 14.9): printable ASCII
 * without '"' or '\' keeps it valid without escaping. */
static int set_realm(const struct br_parse *p, const struct br_key *k, const char *val)
{
    char *dst = br_cfg_field(p->cfg, k->off);
    size_t n = strlen(val);

    /* the 401 challenge carries it and must stay within 4x of the request */
    if (n == 0 || n > TURN_REALM_MAX) {
        return br_cfg_fail(p,
                           "must be 1 to %d characters long (the challenge that carries it must "
                           "stay within 4x of a client's first Allocate)",
                           TURN_REALM_MAX);
    }
    for (size_t i = 0; i < n; i++) {
        if (val[i] < 0x20 || val[i] > 0x7e || val[i] == '"' || val[i] == '\\') {
            return br_cfg_fail(p, "must be printable ASCII without quotes or backslashes");
        }
    }
    memcpy(dst, val, n + 1);
    return 0;
}

static int set_path(const struct br_parse *p, const struct br_key *k, const char *val)
{
    size_t n = strlen(val);

    if (n == 0) {
        return br_cfg_fail(p, "missing value");
    }
    if (n >= BR_PATH_MAX) {
        return br_cfg_fail(p, "path too long (at most %d bytes)", BR_PATH_MAX - 1);
    }
    memcpy(br_cfg_field(p->cfg, k->off), val, n + 1);
    return 0;
}

static int set_secret(const struct br_parse *p, const struct br_key *k, const char *val)
{
    if (!*val) {
        return br_cfg_fail(p, "invalid value (empty secret)");
    }
    return br_cfg_strlist_add(p, br_cfg_field(p->cfg, k->off), val);
}

static int set_user(const struct br_parse *p, const struct br_key *k, const char *val)
{
    struct br_strlist *l = br_cfg_field(p->cfg, k->off);
    const char *colon = strchr(val, ':');
    size_t name_len;

    if (!colon || colon == val || colon[1] == '\0') {
        return br_cfg_fail(p, "invalid value (expected NAME:PASSWORD, both non-empty)");
    }
    name_len = (size_t)(colon - val) + 1; /* compare the name and its ':' */
    for (size_t i = 0; i < l->n; i++) {
        if (strncmp(l->items[i], val, name_len) == 0) {
            return br_cfg_fail(p, "invalid value (a user of that NAME is already given)");
        }
    }
    return br_cfg_strlist_add(p, l, val);
}

static int set_admin(const struct br_parse *p, const struct br_key *k, const char *val)
{
    union turn_addr *dst = br_cfg_field(p->cfg, k->off), a;
    char q[QUOTE_MAX];

    if (!*val) {
        memset(dst, 0, sizeof(*dst));
        return 0;
    }
    if (turn_addr_parse(&a, val, k->port) < 0) {
        return br_cfg_fail(p, "expected ADDR:PORT or \"\" (off), got '%s'",
                           br_cfg_quote(q, sizeof(q), val));
    }
    if (turn_addr_port(&a) == 0) {
        return br_cfg_fail(p, "port must be between 1 and 65535");
    }
    turn_addr_canonical(&a);
    *dst = a;
    return 0;
}

int br_cfg_set(const struct br_parse *p, const struct br_key *k, const char *val)
{
    if (!val && k->type != BR_T_BOOL) {
        return br_cfg_fail(p, "missing value");
    }
    switch (k->type) {
    case BR_T_ADDRS:
        return set_addrs(p, k, val);
    case BR_T_IP:
        return set_ip(p, k, val);
    case BR_T_PORTS:
        return set_ports(p, k, val);
    case BR_T_PORT:
    case BR_T_UINT:
        return set_number(p, k, val);
    case BR_T_REALM:
        return set_realm(p, k, val);
    case BR_T_SECRET:
        return set_secret(p, k, val);
    case BR_T_SECRET_FILE:
        return br_cfg_secret_file(p, k, val);
    case BR_T_USER:
        return set_user(p, k, val);
    case BR_T_CIDR:
        return br_cfg_cidr(p, k, val);
    case BR_T_BOOL:
        return set_bool(p, k, val);
    case BR_T_PATH:
        return set_path(p, k, val);
    case BR_T_ADMIN:
        return set_admin(p, k, val);
    }
    return -EINVAL;
}

void br_cfg_clear(struct br_config *cfg, const struct br_key *k)
{
    switch (k->type) {
    case BR_T_ADDRS:
        *(size_t *)br_cfg_field(cfg, k->off2) = 0;
        break;
    case BR_T_IP:
        memset(br_cfg_field(cfg, k->off), 0, sizeof(union turn_addr));
        memset(br_cfg_field(cfg, k->off2), 0, sizeof(union turn_addr));
        break;
    case BR_T_SECRET:
    case BR_T_SECRET_FILE:
    case BR_T_USER:
    case BR_T_CIDR:
        strlist_clear(br_cfg_field(cfg, k->off));
        break;
    default:
        break;
    }
}

static bool strlist_equal(const struct br_strlist *a, const struct br_strlist *b)
{
    if (a->n != b->n) {
        return false;
    }
    for (size_t i = 0; i < a->n; i++) {
        if (strcmp(a->items[i], b->items[i]) != 0) {
            return false;
        }
    }
    return true;
}

static bool addr_equal(const union turn_addr *a, const union turn_addr *b)
{
    if (a->sa.sa_family != b->sa.sa_family) {
        return false;
    }
    return a->sa.sa_family == 0 || turn_addr_equal(a, b);
}

static bool addrs_equal(const struct br_config *a, const struct br_config *b,
                        const struct br_key *k)
{
    const union turn_addr *la = br_cfg_field((struct br_config *)a, k->off);
    const union turn_addr *lb = br_cfg_field((struct br_config *)b, k->off);
    size_t n = *(const size_t *)br_cfg_field((struct br_config *)a, k->off2);

    if (n != *(const size_t *)br_cfg_field((struct br_config *)b, k->off2)) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!addr_equal(&la[i], &lb[i])) {
            return false;
        }
    }
    return true;
}

bool br_cfg_equal(const struct br_config *a, const struct br_config *b, const struct br_key *k)
{
    /* the fields are only read: the casts drop const for br_cfg_field alone */
    void *fa = br_cfg_field((struct br_config *)a, k->off);
    void *fb = br_cfg_field((struct br_config *)b, k->off);

    switch (k->type) {
    case BR_T_ADDRS:
        return addrs_equal(a, b, k);
    case BR_T_IP:
        return addr_equal(fa, fb) && addr_equal(br_cfg_field((struct br_config *)a, k->off2),
                                                br_cfg_field((struct br_config *)b, k->off2));
    case BR_T_PORTS:
        return *(uint16_t *)fa == *(uint16_t *)fb &&
               *(uint16_t *)br_cfg_field((struct br_config *)a, k->off2) ==
                   *(uint16_t *)br_cfg_field((struct br_config *)b, k->off2);
    case BR_T_PORT:
        return *(uint16_t *)fa == *(uint16_t *)fb;
    case BR_T_REALM:
    case BR_T_PATH:
        return strcmp(fa, fb) == 0;
    case BR_T_SECRET:
    case BR_T_SECRET_FILE:
    case BR_T_USER:
    case BR_T_CIDR:
        return strlist_equal(fa, fb);
    case BR_T_UINT:
        /* off2: the "auto" flag of a key that accepts it */
        return *(uint32_t *)fa == *(uint32_t *)fb &&
               (!k->off2 || *(bool *)br_cfg_field((struct br_config *)a, k->off2) ==
                                *(bool *)br_cfg_field((struct br_config *)b, k->off2));
    case BR_T_BOOL:
        return *(bool *)fa == *(bool *)fb;
    case BR_T_ADMIN:
        return addr_equal(fa, fb);
    }
    return false;
}

/* Whether k also uses the field at off2 (see enum br_type). */
static bool has_off2(const struct br_key *k)
{
    return k->type == BR_T_ADDRS || k->type == BR_T_IP || k->type == BR_T_PORTS;
}

bool br_cfg_shares_field(const struct br_key *a, const struct br_key *b)
{
    return a->off == b->off || (has_off2(a) && a->off2 == b->off) ||
           (has_off2(b) && b->off2 == a->off) || (has_off2(a) && has_off2(b) && a->off2 == b->off2);
}

bool br_cfg_is_list(const struct br_key *k)
{
    switch (k->type) {
    case BR_T_ADDRS:
    case BR_T_IP:
    case BR_T_SECRET:
    case BR_T_SECRET_FILE:
    case BR_T_USER:
    case BR_T_CIDR:
        return true;
    default:
        return false;
    }
}

const char *br_cfg_metavar(const struct br_key *k)
{
    if (k->type == BR_T_UINT && k->off2) {
        return "N|auto";
    }
    static const char *const names[] = {
        [BR_T_ADDRS] = "ADDR[:PORT]",
        [BR_T_IP] = "IP",
        [BR_T_PORTS] = "MIN-MAX",
        [BR_T_PORT] = "PORT",
        [BR_T_REALM] = "TEXT",
        [BR_T_SECRET] = "SECRET",
        [BR_T_SECRET_FILE] = "FILE",
        [BR_T_USER] = "NAME:PASSWORD",
        [BR_T_CIDR] = "ADDR[/PREFIX]",
        [BR_T_UINT] = "N",
        [BR_T_BOOL] = "[BOOL]",
        [BR_T_PATH] = "FILE",
        [BR_T_ADMIN] = "ADDR[:PORT]|\"\"",
    };
    return names[k->type];
}
