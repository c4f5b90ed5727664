/* Tests for relay/netinfo on the host's own interfaces (no namespace):
 * the address set holds loopback, is sorted, unique, port 0 and
 * canonical; two reads compare equal; the default relay address is a
 * usable one from the set; declaring the host's addresses as self makes
 * the peer policy refuse them even under an allow-peer rule. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "relay/netinfo.h"

static struct netinfo_set set;

static bool in_set(const struct netinfo_set *s, const char *text)
{
    union turn_addr a;

    cr_assert_eq(turn_addr_parse(&a, text, 0), 0);
    for (size_t i = 0; i < s->n; i++) {
        if (turn_addr_equal(&s->addr[i], &a)) {
            return true;
        }
    }
    return false;
}

static bool host_has_ipv6(void)
{
    FILE *f = fopen("/proc/net/if_inet6", "r");
    int c = f ? fgetc(f) : EOF;

    if (f) {
        fclose(f);
    }
    return c != EOF;
}

Test(netinfo, read_holds_loopback)
{
    cr_assert_eq(netinfo_read(&set), 0);
    cr_assert_geq(set.n, 1);
    cr_assert(in_set(&set, "127.0.0.1"));
    if (host_has_ipv6()) {
        cr_assert(in_set(&set, "::1"));
    }
}

Test(netinfo, read_is_sorted_unique_canonical_port_0)
{
    cr_assert_eq(netinfo_read(&set), 0);
    for (size_t i = 0; i < set.n; i++) {
        const union turn_addr *a = &set.addr[i];
        cr_assert(a->sa.sa_family == AF_INET || a->sa.sa_family == AF_INET6);
        cr_assert_eq(turn_addr_port(a), 0, "address %zu", i);
        if (a->sa.sa_family == AF_INET6) {
            cr_assert_not(IN6_IS_ADDR_V4MAPPED(&a->in6.sin6_addr), "IPv4-mapped left in");
            cr_assert_eq(a->in6.sin6_scope_id, 0, "scope cleared (link-local)");
        }
        if (i > 0) {
            cr_assert_lt(memcmp(&set.addr[i - 1], a, sizeof(*a)), 0, "sorted, no duplicates");
        }
    }
}

Test(netinfo, equal_reads_and_differences)
{
    struct netinfo_set again;

    cr_assert_eq(netinfo_read(&set), 0);
    cr_assert_eq(netinfo_read(&again), 0);
    cr_assert(netinfo_equal(&set, &again), "nothing changed between two reads");

    again.truncated = !set.truncated;
    cr_assert_not(netinfo_equal(&set, &again));
    again.truncated = set.truncated;
    again.addr[0].in4.sin_port = htons(1); /* a byte within the first address */
    cr_assert_not(netinfo_equal(&set, &again));
    again.addr[0] = set.addr[0];
    again.n--;
    cr_assert_not(netinfo_equal(&set, &again));
}

static void check_default(int family)
{
    union turn_addr a;
    int rc = netinfo_default_ip(family, &a);

    if (rc == -ENOENT) {
        return; /* no global address of that family on this host */
    }
    cr_assert_eq(rc, 0);
    cr_assert_eq(a.sa.sa_family, family);
    cr_assert_eq(turn_addr_port(&a), 0);
    cr_assert_not(turn_addr_is_wildcard(&a));
    if (family == AF_INET) {
        cr_assert_neq(ntohl(a.in4.sin_addr.s_addr) >> 24, 127, "not loopback");
    } else {
        cr_assert_not(IN6_IS_ADDR_LOOPBACK(&a.in6.sin6_addr));
        cr_assert_not(IN6_IS_ADDR_LINKLOCAL(&a.in6.sin6_addr));
    }
    cr_assert_eq(netinfo_read(&set), 0);
    bool found = false;
    for (size_t i = 0; i < set.n; i++) {
        found |= turn_addr_equal(&set.addr[i], &a); /* scope ignored */
    }
    cr_assert(found, "the default address is one of the host's");
}

Test(netinfo, default_ip_is_a_global_address_of_the_host)
{
    check_default(AF_INET);
    check_default(AF_INET6);
}

/* The host's addresses become self: refused as peers whatever allow-peer
 * says. Loopback always is; a global address shows the declaration. */
Test(netinfo, add_self_refuses_the_host_addresses)
{
    struct turn_policy *before, *after;
    union turn_addr host, peer;
    char text[INET6_ADDRSTRLEN + 8], cidr[INET6_ADDRSTRLEN + 8];

    if (netinfo_default_ip(AF_INET, &host) < 0 && netinfo_default_ip(AF_INET6, &host) < 0) {
        cr_skip_test("the host has no global address");
    }
    turn_addr_format(&host, text, sizeof(text));
    if (host.sa.sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &host.in6.sin6_addr, cidr, sizeof(cidr));
    } else {
        inet_ntop(AF_INET, &host.in4.sin_addr, cidr, sizeof(cidr));
    }
    cr_assert_eq(turn_policy_new(&before), 0);
    cr_assert_eq(turn_policy_new(&after), 0);
    cr_assert_eq(turn_policy_add_rule(before, cidr, true), 0, "%s", cidr);
    cr_assert_eq(turn_policy_add_rule(after, cidr, true), 0, "%s", cidr);
    cr_assert_eq(netinfo_add_self(after), 0);

    peer = host;
    turn_addr_set_port(&peer, 5000);
    cr_assert(turn_policy_allowed(before, &peer), "allow-peer opens %s", text);
    cr_assert_not(turn_policy_allowed(after, &peer), "the host's own %s is refused", text);
    turn_policy_free(before);
    turn_policy_free(after);
}
