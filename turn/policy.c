/* Peer policy: operator allow/deny rules, the server's own addresses, and the
 * default-denied special-purpose ranges (RFC 6890, RFC 6156, RFC 8656 21.2.2, 21.4). */
#include "policy.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Addresses are compared in host byte order against precomputed masks, so a
 * match is one AND and one compare (two for IPv6). */
struct rule4 {
    uint32_t net;
    uint32_t mask;
};

struct rule6 {
    uint64_t net[2];
    uint64_t mask[2];
};

struct rule_set {
    unsigned n4;
    unsigned n6;
    struct rule4 r4[TURN_POLICY_MAX_RULES];
    struct rule6 r6[TURN_POLICY_MAX_RULES];
};

struct turn_policy {
    struct rule_set deny;
    struct rule_set allow;
    struct rule_set allow_loopback; /* the allow rules that lie inside 127/8 or ::1 */
    struct rule_set defaults;
    unsigned n_self;
    union turn_addr self[TURN_POLICY_MAX_SELF];
    unsigned n_self_ports;
    uint16_t self_ports[TURN_POLICY_MAX_SELF];
    unsigned n_relay;
    union turn_addr relay[TURN_POLICY_MAX_SELF]; /* relay-ip and external-ip */
    bool (*relay_held)(const void *arg, const union turn_addr *a);
    const void *relay_held_arg;
    uint16_t relay_min;
    uint16_t relay_max; /* relay_min > relay_max: no relay range declared */
};

/* RFC 6890 special-purpose ranges; see DESIGN.md. ::ffff:0:0/96 is not
 * listed: peers are canonicalised first, so a mapped address is checked as
 * the IPv4 address inside (as a rule it would mean 0.0.0.0/0). ::/96
 * (IPv4-compatible, deprecated) covers ::/128 and ::1/128 and is refused
 * outright. */
static const char *const default_denied[] = {
    "0.0.0.0/8",     "10.0.0.0/8",      "100.64.0.0/10",  "127.0.0.0/8",    "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24",    "192.0.2.0/24",   "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4",    "240.0.0.0/4",
    "::/128",        "::1/128",         "::/96",          "64:ff9b::/96",   "64:ff9b:1::/48",
    "100::/64",      "2001::/32",       "2001:db8::/32",  "2002::/16",      "fc00::/7",
    "fe80::/10",     "fec0::/10",       "ff00::/8",
};

static uint64_t load_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

static uint64_t mask64(unsigned bits)
{
    return bits == 0 ? 0 : bits >= 64 ? UINT64_MAX : ~(UINT64_MAX >> bits);
}

/* Parses the prefix length: 1 to 3 decimal digits, at most max. */
static int parse_prefix(const char *text, unsigned max, unsigned *out)
{
    size_t n = strlen(text);
    unsigned v = 0;

    if (n == 0 || n > 3) {
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return -EINVAL;
        }
        v = v * 10 + (unsigned)(text[i] - '0');
    }
    if (v > max) {
        return -EINVAL;
    }
    *out = v;
    return 0;
}

static int add4(struct rule_set *set, const uint8_t ip[4], unsigned prefix)
{
    uint32_t addr = (uint32_t)ip[0] << 24 | (uint32_t)ip[1] << 16 | (uint32_t)ip[2] << 8 | ip[3];
    uint32_t mask = (uint32_t)(0xFFFFFFFF00000000ull >> prefix); /* prefix 0..32 */

    if (addr & ~mask) {
        return -EINVAL; /* host bits set */
    }
    if (set->n4 == TURN_POLICY_MAX_RULES) {
        return -ENOSPC;
    }
    set->r4[set->n4++] = (struct rule4){.net = addr, .mask = mask};
    return 0;
}

static int add6(struct rule_set *set, const uint8_t ip[16], unsigned prefix)
{
    struct rule6 r;

    r.mask[0] = mask64(prefix);
    r.mask[1] = mask64(prefix > 64 ? prefix - 64 : 0);
    r.net[0] = load_be64(ip);
    r.net[1] = load_be64(ip + 8);
    if ((r.net[0] & ~r.mask[0]) || (r.net[1] & ~r.mask[1])) {
        return -EINVAL; /* host bits set */
    }
    if (set->n6 == TURN_POLICY_MAX_RULES) {
        return -ENOSPC;
    }
    set->r6[set->n6++] = r;
    return 0;
}

/* Parses "ADDR/PREFIX" or "ADDR" into set. An IPv6 rule lying wholly inside
 * ::ffff:0:0/96 is stored as the IPv4 rule it means, since peers are
 * canonicalised before matching. */
static int add_cidr(struct rule_set *set, const char *cidr)
{
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char host[INET6_ADDRSTRLEN];
    const char *slash = strchr(cidr, '/');
    size_t n = slash ? (size_t)(slash - cidr) : strlen(cidr);
    uint8_t ip[16];
    unsigned prefix;

    if (n == 0 || n >= sizeof(host)) {
        return -EINVAL;
    }
    memcpy(host, cidr, n);
    host[n] = '\0';
    if (inet_pton(AF_INET, host, ip) == 1) {
        prefix = 32;
        if (slash && parse_prefix(slash + 1, 32, &prefix) < 0) {
            return -EINVAL;
        }
        return add4(set, ip, prefix);
    }
    if (inet_pton(AF_INET6, host, ip) != 1) {
        return -EINVAL;
    }
    prefix = 128;
    if (slash && parse_prefix(slash + 1, 128, &prefix) < 0) {
        return -EINVAL;
    }
    if (prefix >= 96 && memcmp(ip, v4mapped, sizeof(v4mapped)) == 0) {
        return add4(set, ip + 12, prefix - 96);
    }
    return add6(set, ip, prefix);
}

int turn_policy_new(struct turn_policy **out)
{
    struct turn_policy *p = calloc(1, sizeof(*p));

    if (!p) {
        return -ENOMEM;
    }
    p->relay_min = 1;
    p->relay_max = 0;
    for (size_t i = 0; i < sizeof(default_denied) / sizeof(default_denied[0]); i++) {
        int err = add_cidr(&p->defaults, default_denied[i]);
        assert(err == 0);
        (void)err;
    }
    *out = p;
    return 0;
}

void turn_policy_free(struct turn_policy *policy)
{
    free(policy);
}

static bool is_loopback(const union turn_addr *a)
{
    if (a->sa.sa_family == AF_INET) {
        return (ntohl(a->in4.sin_addr.s_addr) >> 24) == 127;
    }
    return IN6_IS_ADDR_LOOPBACK(&a->in6.sin6_addr);
}

/* Whether the newest rule of set lies wholly inside a loopback range. */
static bool last_rule_loopback(const struct rule_set *set, bool v4)
{
    if (v4) {
        const struct rule4 *r = &set->r4[set->n4 - 1];
        return r->mask >= 0xFF000000u && (r->net >> 24) == 127;
    }
    const struct rule6 *r = &set->r6[set->n6 - 1];
    return r->mask[0] == UINT64_MAX && r->mask[1] == UINT64_MAX && r->net[0] == 0 && r->net[1] == 1;
}

int turn_policy_add_rule(struct turn_policy *policy, const char *cidr, bool allow)
{
    struct rule_set *set = allow ? &policy->allow : &policy->deny;
    struct rule_set *lo = &policy->allow_loopback;
    unsigned n4;
    int err;

    assert(policy && cidr);
    n4 = set->n4;
    if ((err = add_cidr(set, cidr)) < 0 || !allow) {
        return err;
    }
    /* a copy, so that the host's loopback addresses are opened only by
     * rules written for them (never by 0.0.0.0/0) */
    if (set->n4 != n4 && last_rule_loopback(set, true)) {
        lo->r4[lo->n4++] = set->r4[set->n4 - 1];
    } else if (set->n4 == n4 && last_rule_loopback(set, false)) {
        lo->r6[lo->n6++] = set->r6[set->n6 - 1];
    }
    return 0;
}

int turn_policy_add_self(struct turn_policy *policy, const union turn_addr *ip)
{
    union turn_addr a;

    assert(policy && ip);
    if (ip->sa.sa_family != AF_INET && ip->sa.sa_family != AF_INET6) {
        return -EINVAL;
    }
    a = *ip;
    turn_addr_canonical(&a);
    if (turn_addr_is_wildcard(&a)) {
        return 0;
    }
    for (unsigned i = 0; i < policy->n_self; i++) {
        if (turn_addr_ip_equal(&policy->self[i], &a)) {
            return 0;
        }
    }
    if (policy->n_self == TURN_POLICY_MAX_SELF) {
        return -ENOSPC;
    }
    turn_addr_set_port(&a, 0);
    policy->self[policy->n_self++] = a;
    return 0;
}

int turn_policy_add_relay(struct turn_policy *policy, const union turn_addr *ip)
{
    int err = turn_policy_add_self(policy, ip);

    if (err < 0 || turn_addr_is_wildcard(ip)) {
        return err;
    }
    if (policy->n_relay == TURN_POLICY_MAX_SELF) {
        return -ENOSPC;
    }
    policy->relay[policy->n_relay] = *ip;
    turn_addr_canonical(&policy->relay[policy->n_relay]);
    turn_addr_set_port(&policy->relay[policy->n_relay++], 0);
    return 0;
}

void turn_policy_set_relay_oracle(struct turn_policy *policy,
                                  bool (*held)(const void *arg, const union turn_addr *a),
                                  const void *arg)
{
    policy->relay_held = held;
    policy->relay_held_arg = arg;
}

int turn_policy_add_self_port(struct turn_policy *policy, uint16_t port)
{
    assert(policy);
    for (unsigned i = 0; i < policy->n_self_ports; i++) {
        if (policy->self_ports[i] == port) {
            return 0;
        }
    }
    if (policy->n_self_ports == TURN_POLICY_MAX_SELF) {
        return -ENOSPC;
    }
    policy->self_ports[policy->n_self_ports++] = port;
    return 0;
}

void turn_policy_set_relay_ports(struct turn_policy *policy, uint16_t min, uint16_t max)
{
    assert(policy);
    policy->relay_min = min;
    policy->relay_max = max;
}

static bool set_match(const struct rule_set *set, const union turn_addr *a)
{
    if (a->sa.sa_family == AF_INET) {
        uint32_t v = ntohl(a->in4.sin_addr.s_addr);
        for (unsigned i = 0; i < set->n4; i++) {
            if ((v & set->r4[i].mask) == set->r4[i].net) {
                return true;
            }
        }
        return false;
    }
    uint64_t hi = load_be64(a->in6.sin6_addr.s6_addr);
    uint64_t lo = load_be64(a->in6.sin6_addr.s6_addr + 8);
    for (unsigned i = 0; i < set->n6; i++) {
        const struct rule6 *r = &set->r6[i];
        if ((hi & r->mask[0]) == r->net[0] && (lo & r->mask[1]) == r->net[1]) {
            return true;
        }
    }
    return false;
}

static bool is_self(const struct turn_policy *policy, const union turn_addr *a)
{
    for (unsigned i = 0; i < policy->n_self; i++) {
        if (turn_addr_ip_equal(&policy->self[i], a)) {
            return true;
        }
    }
    return false;
}

static bool is_relay(const struct turn_policy *policy, const union turn_addr *a)
{
    for (unsigned i = 0; i < policy->n_relay; i++) {
        if (turn_addr_ip_equal(&policy->relay[i], a)) {
            return true;
        }
    }
    return false;
}

static bool is_self_port(const struct turn_policy *policy, uint16_t port)
{
    for (unsigned i = 0; i < policy->n_self_ports; i++) {
        if (policy->self_ports[i] == port) {
            return true;
        }
    }
    return false;
}

static bool relay_range_has(const struct turn_policy *policy, uint16_t port)
{
    return port >= policy->relay_min && port <= policy->relay_max;
}

/* The host itself: a declared address, any loopback address, or the
 * unspecified address (which the kernel delivers to the host). */
static bool is_host(const struct turn_policy *policy, const union turn_addr *a)
{
    return is_self(policy, a) || is_loopback(a) || turn_addr_is_wildcard(a);
}

/* The verdict for a (canonical): for its port, or with any_port for
 * whether some port of its IP may be a peer (a permission). */
static bool decide(const struct turn_policy *policy, const union turn_addr *a, bool any_port)
{
    uint16_t port = turn_addr_port(a);
    bool host = is_host(policy, a);

    if (host && !any_port && is_self_port(policy, port)) {
        return false; /* a loop through the server, whatever the rules say */
    }
    if (set_match(&policy->deny, a)) {
        return false;
    }
    if (is_relay(policy, a) && policy->relay_min <= policy->relay_max &&
        (any_port || relay_range_has(policy, port))) {
        /* a relay address of ours on a relay port reaches only another
         * allocation, which enforces its own permissions: relay to relay is
         * allowed even when that address is private or loopback, but only
         * while one of our relay sockets holds the port */
        return any_port || turn_policy_relay_held(policy, a);
    }
    if (host) {
        /* every other address and port of the host (SSH, the admin
         * endpoint, databases) is refused whatever allow-peer says; only a
         * rule written for loopback opens loopback (a test setup) */
        return is_loopback(a) && set_match(&policy->allow_loopback, a);
    }
    if (set_match(&policy->allow, a)) {
        return true;
    }
    return !set_match(&policy->defaults, a);
}

static bool canonical(const union turn_addr *in, union turn_addr *out)
{
    *out = *in;
    turn_addr_canonical(out);
    return out->sa.sa_family == AF_INET || out->sa.sa_family == AF_INET6;
}

bool turn_policy_allowed(const struct turn_policy *policy, const union turn_addr *peer)
{
    union turn_addr a;

    return canonical(peer, &a) && decide(policy, &a, false);
}

bool turn_policy_ip_allowed(const struct turn_policy *policy, const union turn_addr *ip)
{
    union turn_addr a;

    return canonical(ip, &a) && decide(policy, &a, true);
}

bool turn_policy_relay_peer(const struct turn_policy *policy, const union turn_addr *peer)
{
    union turn_addr a;

    return canonical(peer, &a) && is_relay(policy, &a) &&
           relay_range_has(policy, turn_addr_port(&a));
}

bool turn_policy_relay_held(const struct turn_policy *policy, const union turn_addr *peer)
{
    return !policy->relay_held || policy->relay_held(policy->relay_held_arg, peer);
}
