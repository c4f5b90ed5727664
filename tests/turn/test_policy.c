/* Tests for turn/policy.c: default-denied ranges, operator rules, self. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "turn/policy.h"

static struct turn_policy *pol;

static void setup(void)
{
    cr_assert_eq(turn_policy_new(&pol), 0);
}

static void teardown(void)
{
    turn_policy_free(pol);
    pol = NULL;
}

TestSuite(policy, .init = setup, .fini = teardown);

static union turn_addr peer(const char *ip, uint16_t port)
{
    union turn_addr a;
    char text[64];

    if (strchr(ip, ':')) {
        snprintf(text, sizeof(text), "[%s]:%u", ip, port);
    } else {
        snprintf(text, sizeof(text), "%s:%u", ip, port);
    }
    cr_assert_eq(turn_addr_parse(&a, text, 0), 0, "bad test address %s", text);
    return a;
}

static bool allowed(const char *ip, uint16_t port)
{
    union turn_addr a = peer(ip, port);
    return turn_policy_allowed(pol, &a);
}

/* A default-denied range and three addresses inside it: first, a middle
 * sample, last. */
struct range {
    const char *cidr;
    const char *first;
    const char *mid;
    const char *last;
};

static const struct range v4_ranges[] = {
    {"0.0.0.0/8", "0.0.0.0", "0.1.2.3", "0.255.255.255"},
    {"10.0.0.0/8", "10.0.0.0", "10.20.30.40", "10.255.255.255"},
    {"100.64.0.0/10", "100.64.0.0", "100.100.1.1", "100.127.255.255"},
    {"127.0.0.0/8", "127.0.0.0", "127.0.0.1", "127.255.255.255"},
    {"169.254.0.0/16", "169.254.0.0", "169.254.169.254", "169.254.255.255"},
    {"172.16.0.0/12", "172.16.0.0", "172.20.1.1", "172.31.255.255"},
    {"192.0.0.0/24", "192.0.0.0", "192.0.0.9", "192.0.0.255"},
    {"192.0.2.0/24", "192.0.2.0", "192.0.2.1", "192.0.2.255"},
    {"192.88.99.0/24", "192.88.99.0", "192.88.99.1", "192.88.99.255"},
    {"192.168.0.0/16", "192.168.0.0", "192.168.1.1", "192.168.255.255"},
    {"198.18.0.0/15", "198.18.0.0", "198.19.1.1", "198.19.255.255"},
    {"198.51.100.0/24", "198.51.100.0", "198.51.100.7", "198.51.100.255"},
    {"203.0.113.0/24", "203.0.113.0", "203.0.113.9", "203.0.113.255"},
    {"224.0.0.0/4", "224.0.0.0", "239.1.2.3", "239.255.255.255"},
    {"240.0.0.0/4", "240.0.0.0", "250.1.2.3", "255.255.255.255"},
};

static const struct range v6_ranges[] = {
    {"::/128", "::", "::", "::"},
    {"::1/128", "::1", "::1", "::1"},
    {"::/96", "::", "::1.2.3.4", "::ffff:ffff"},
    {"64:ff9b::/96", "64:ff9b::", "64:ff9b::8.8.8.8", "64:ff9b::ffff:ffff"},
    {"64:ff9b:1::/48", "64:ff9b:1::", "64:ff9b:1:2::3", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff"},
    {"100::/64", "100::", "100::1234", "100::ffff:ffff:ffff:ffff"},
    {"2001::/32", "2001::", "2001:0:4136:e378::1", "2001:0:ffff:ffff:ffff:ffff:ffff:ffff"},
    {"2001:db8::/32", "2001:db8::", "2001:db8::1", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"},
    {"2002::/16", "2002::", "2002:c000:204::1", "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
    {"fc00::/7", "fc00::", "fd12:3456::1", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
    {"fe80::/10", "fe80::", "fe80::1", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
    {"fec0::/10", "fec0::", "fec0::1", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
    {"ff00::/8", "ff00::", "ff02::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

Test(policy, default_denied_ipv4)
{
    for (size_t i = 0; i < N(v4_ranges); i++) {
        const struct range *r = &v4_ranges[i];
        cr_expect(!allowed(r->first, 3478), "%s: %s allowed", r->cidr, r->first);
        cr_expect(!allowed(r->mid, 443), "%s: %s allowed", r->cidr, r->mid);
        cr_expect(!allowed(r->last, 65535), "%s: %s allowed", r->cidr, r->last);
    }
}

Test(policy, default_denied_ipv4_mapped)
{
    char mapped[64];

    for (size_t i = 0; i < N(v4_ranges); i++) {
        const struct range *r = &v4_ranges[i];
        const char *ips[] = {r->first, r->mid, r->last};
        for (size_t j = 0; j < N(ips); j++) {
            snprintf(mapped, sizeof(mapped), "::ffff:%s", ips[j]);
            cr_expect(!allowed(mapped, 5000), "%s: %s allowed", r->cidr, mapped);
        }
    }
    cr_expect(!allowed("::ffff:0:0", 1));
    cr_expect(allowed("::ffff:8.8.8.8", 53));
}

Test(policy, default_denied_ipv6)
{
    for (size_t i = 0; i < N(v6_ranges); i++) {
        const struct range *r = &v6_ranges[i];
        cr_expect(!allowed(r->first, 3478), "%s: %s allowed", r->cidr, r->first);
        cr_expect(!allowed(r->mid, 443), "%s: %s allowed", r->cidr, r->mid);
        cr_expect(!allowed(r->last, 1), "%s: %s allowed", r->cidr, r->last);
    }
}

/* Just outside each range's edges (where the neighbour is not itself denied). */
Test(policy, range_edges_outside_allowed)
{
    static const char *const outside[] = {
        "1.0.0.0",        "9.255.255.255",
        "11.0.0.0",       "100.63.255.255",
        "100.128.0.0",    "126.255.255.255",
        "128.0.0.0",      "169.253.255.255",
        "169.255.0.0",    "172.15.255.255",
        "172.32.0.0",     "191.255.255.255",
        "192.0.1.0",      "192.0.1.255",
        "192.0.3.0",      "192.88.98.255",
        "192.88.100.0",   "192.167.255.255",
        "192.169.0.0",    "198.17.255.255",
        "198.20.0.0",     "198.51.99.255",
        "198.51.101.0",   "203.0.112.255",
        "203.0.114.0",    "223.255.255.255",
        "::1:0:0",        "64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff",
        "64:ff9b::1:0:0", "64:ff9b:0:ffff:ffff:ffff:ffff:ffff",
        "64:ff9b:2::",    "ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "100:0:0:1::",    "2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "2001:1::",       "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",
        "2001:db9::",     "2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "2003::",         "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "fe00::",         "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    };
    for (size_t i = 0; i < N(outside); i++) {
        cr_expect(allowed(outside[i], 3478), "%s refused", outside[i]);
    }
}

Test(policy, public_allowed)
{
    cr_expect(allowed("8.8.8.8", 53));
    cr_expect(allowed("1.1.1.1", 443));
    cr_expect(allowed("93.184.216.34", 50000));
    cr_expect(allowed("2606:4700::1", 443));
    cr_expect(allowed("2001:4860:4860::8888", 53));
    cr_expect(allowed("2a00:1450:4001:82b::200e", 19302));
}

Test(policy, unset_family_refused)
{
    union turn_addr a;
    memset(&a, 0, sizeof(a));
    cr_expect(!turn_policy_allowed(pol, &a));
}

Test(policy, allow_overrides_default)
{
    cr_assert_eq(turn_policy_add_rule(pol, "127.0.0.0/8", true), 0);
    cr_expect(allowed("127.0.0.1", 5000));
    cr_expect(allowed("::ffff:127.0.0.1", 5000));
    cr_expect(!allowed("10.0.0.1", 5000));
    cr_expect(!allowed("::1", 5000));

    cr_assert_eq(turn_policy_add_rule(pol, "fd00:1::/32", true), 0);
    cr_expect(allowed("fd00:1::5", 1));
    cr_expect(!allowed("fd00:2::5", 1));

    cr_assert_eq(turn_policy_add_rule(pol, "10.1.2.3", true), 0);
    cr_expect(allowed("10.1.2.3", 1));
    cr_expect(!allowed("10.1.2.4", 1));
}

Test(policy, mapped_rule_means_ipv4)
{
    cr_assert_eq(turn_policy_add_rule(pol, "::ffff:10.0.0.0/104", true), 0);
    cr_expect(allowed("10.9.8.7", 1));
    cr_expect(allowed("::ffff:10.9.8.7", 1));
    cr_expect(allowed("11.0.0.1", 1)); /* public anyway */
    cr_expect(!allowed("192.168.0.1", 1));
}

Test(policy, deny_public_range)
{
    cr_assert_eq(turn_policy_add_rule(pol, "8.8.8.0/24", false), 0);
    cr_assert_eq(turn_policy_add_rule(pol, "2606:4700::/32", false), 0);
    cr_expect(!allowed("8.8.8.8", 53));
    cr_expect(!allowed("::ffff:8.8.8.8", 53));
    cr_expect(allowed("8.8.4.4", 53));
    cr_expect(!allowed("2606:4700::1", 443));
    cr_expect(allowed("2606:4701::1", 443));
}

Test(policy, deny_beats_allow)
{
    cr_assert_eq(turn_policy_add_rule(pol, "10.0.0.0/8", true), 0);
    cr_assert_eq(turn_policy_add_rule(pol, "10.1.0.0/16", false), 0);
    cr_expect(!allowed("10.1.2.3", 80));
    cr_expect(allowed("10.2.0.1", 80));

    /* Same range in both lists: deny wins whatever the order of adding. */
    cr_assert_eq(turn_policy_add_rule(pol, "203.0.113.0/24", true), 0);
    cr_assert_eq(turn_policy_add_rule(pol, "203.0.113.0/24", false), 0);
    cr_expect(!allowed("203.0.113.5", 80));
    cr_assert_eq(turn_policy_add_rule(pol, "1.2.3.0/24", false), 0);
    cr_assert_eq(turn_policy_add_rule(pol, "0.0.0.0/0", true), 0);
    cr_expect(!allowed("1.2.3.4", 80));
    cr_expect(allowed("192.168.1.1", 80));
}

static void declare_self(const char *ip)
{
    union turn_addr a = peer(ip, 1234);
    cr_assert_eq(turn_policy_add_self(pol, &a), 0);
}

Test(policy, self_on_listening_port_always_refused)
{
    declare_self("93.184.216.34");
    declare_self("2606:2800:220:1::1");
    cr_assert_eq(turn_policy_add_self_port(pol, 3478), 0);
    cr_assert_eq(turn_policy_add_self_port(pol, 5349), 0);
    turn_policy_set_relay_ports(pol, 49152, 65535);
    cr_assert_eq(turn_policy_add_rule(pol, "93.184.216.0/24", true), 0);
    cr_assert_eq(turn_policy_add_rule(pol, "::/0", true), 0);

    cr_expect(!allowed("93.184.216.34", 3478));
    cr_expect(!allowed("::ffff:93.184.216.34", 3478));
    cr_expect(!allowed("93.184.216.34", 5349));
    cr_expect(!allowed("2606:2800:220:1::1", 3478));
    /* Another address on the listening port is just a peer. */
    cr_expect(allowed("93.184.216.35", 3478));
    cr_expect(allowed("2606:2800:220:1::2", 3478));
}

static void declare_relay(const char *ip)
{
    union turn_addr a = peer(ip, 0);
    cr_assert_eq(turn_policy_add_relay(pol, &a), 0);
}

Test(policy, self_outside_relay_range)
{
    declare_relay("93.184.216.34");
    declare_relay("::ffff:198.51.100.1"); /* stored as IPv4 */
    declare_self("93.184.216.40");        /* a host address, not a relay address */
    cr_assert_eq(turn_policy_add_self_port(pol, 3478), 0);

    /* No relay range declared yet: the self address is refused on any port. */
    cr_expect(!allowed("93.184.216.34", 50000));

    turn_policy_set_relay_ports(pol, 49152, 65535);
    cr_expect(allowed("93.184.216.34", 49152));
    cr_expect(allowed("93.184.216.34", 65535));
    cr_expect(allowed("::ffff:93.184.216.34", 50000));
    cr_expect(!allowed("93.184.216.34", 49151));
    cr_expect(!allowed("93.184.216.34", 22));
    /* A relay address in a default-denied range is still a relay address:
     * relay to relay works on private and loopback relay addresses. */
    cr_expect(allowed("198.51.100.1", 50000));
    cr_expect(!allowed("198.51.100.1", 22));
    /* Other addresses of the host are refused on every port. */
    cr_expect(!allowed("93.184.216.40", 50000));
    cr_expect(!allowed("93.184.216.40", 22));

    /* No allow rule opens the host: not outside the relay range, not on a
     * listening port, not another host address. */
    cr_assert_eq(turn_policy_add_rule(pol, "93.184.216.0/24", true), 0);
    cr_expect(!allowed("93.184.216.34", 22));
    cr_expect(!allowed("93.184.216.34", 3478));
    cr_expect(!allowed("93.184.216.40", 22));
    cr_expect(allowed("93.184.216.34", 50000), "the relay exception still holds");
    cr_expect(allowed("93.184.216.41", 22), "a neighbour is not the host");
}

Test(policy, self_wildcard_ignored)
{
    declare_self("0.0.0.0");
    declare_self("::");
    cr_assert_eq(turn_policy_add_self_port(pol, 3478), 0);
    cr_assert_eq(turn_policy_add_rule(pol, "0.0.0.0/0", true), 0);
    cr_expect(allowed("8.8.8.8", 3478));
    /* the unspecified address reaches the host: no rule opens it */
    cr_expect(!allowed("0.0.0.0", 3478));
    cr_expect(!allowed("0.0.0.0", 22));
    cr_expect(!allowed("::", 22));

    union turn_addr none;
    memset(&none, 0, sizeof(none));
    cr_expect_eq(turn_policy_add_self(pol, &none), -EINVAL);
}

Test(policy, good_cidrs_accepted)
{
    static const char *const good[] = {
        "0.0.0.0/0",     "::/0",       "1.2.3.4",   "1.2.3.4/32",          "2001:db8::1",
        "2001:db8::/32", "10.0.0.0/8", "fe80::/10", "::ffff:10.0.0.0/104", "128.0.0.0/1",
    };
    for (size_t i = 0; i < N(good); i++) {
        cr_expect_eq(turn_policy_add_rule(pol, good[i], false), 0, "%s refused", good[i]);
    }
}

Test(policy, bad_cidrs_rejected)
{
    static const char *const bad[] = {
        "",
        "/",
        "/8",
        "10.0.0.0/",
        "10.0.0.0/33",
        "10.0.0.1/8",
        "10.0.0.0/-1",
        "10.0.0.0/+8",
        "10.0.0.0/8x",
        "10.0.0.0/ 8",
        " 10.0.0.0/8",
        "10.0.0.0/8 ",
        "10.0.0/8",
        "10.0.0.0.0/8",
        "256.0.0.0/8",
        "10.0.0.0/8/8",
        "10.0.0.0/0008",
        "10.0.0.0/4294967304",
        "::/129",
        "::1/64",
        "2001:db8::/16",
        "fe80::1%eth0",
        "fe80::%eth0/64",
        "[::1]/128",
        "::ffff:10.0.0.1/104",
        "hello",
        "10.0.0.0:80",
        "1.2.3.4/32\n",
    };
    for (size_t i = 0; i < N(bad); i++) {
        cr_expect_eq(turn_policy_add_rule(pol, bad[i], true), -EINVAL, "%s accepted", bad[i]);
        cr_expect_eq(turn_policy_add_rule(pol, bad[i], false), -EINVAL, "%s accepted", bad[i]);
    }
    /* Nothing was added: the defaults still hold. */
    cr_expect(!allowed("10.0.0.1", 1));
    cr_expect(allowed("8.8.8.8", 1));
}

Test(policy, rules_are_bounded)
{
    char cidr[32];

    for (int i = 0; i < TURN_POLICY_MAX_RULES; i++) {
        snprintf(cidr, sizeof(cidr), "10.%d.%d.0/24", i / 256, i % 256);
        cr_assert_eq(turn_policy_add_rule(pol, cidr, true), 0, "%s", cidr);
    }
    cr_expect_eq(turn_policy_add_rule(pol, "11.0.0.0/8", true), -ENOSPC);
    /* The IPv6 list is separate. */
    cr_expect_eq(turn_policy_add_rule(pol, "fd00::/8", true), 0);
    cr_expect(allowed("10.0.255.1", 1));
    cr_expect(!allowed("10.1.0.1", 1));
}

static bool held_50000(const void *arg, const union turn_addr *a)
{
    (void)arg;
    return turn_addr_port(a) == 50000;
}

Test(policy, relay_oracle_narrows_the_exception_to_held_ports)
{
    declare_relay("10.1.2.3");
    turn_policy_set_relay_ports(pol, 49152, 65535);
    cr_expect(allowed("10.1.2.3", 50001), "without an oracle every relay port counts");
    turn_policy_set_relay_oracle(pol, held_50000, NULL);
    cr_expect(allowed("10.1.2.3", 50000));
    cr_expect(!allowed("10.1.2.3", 50001), "a port in the range that no relay socket holds");
}

/* The host's loopback is opened only by an allow rule written inside
 * 127.0.0.0/8 or ::1 (test setups, coturn's --allow-loopback-peers), never
 * by a wider rule; listening ports stay closed either way. */
Test(policy, loopback_opened_only_by_a_loopback_rule)
{
    declare_self("127.0.0.1");
    cr_assert_eq(turn_policy_add_self_port(pol, 3478), 0);
    cr_assert_eq(turn_policy_add_rule(pol, "0.0.0.0/0", true), 0);
    cr_assert_eq(turn_policy_add_rule(pol, "::/0", true), 0);
    cr_expect(!allowed("127.0.0.1", 5000));
    cr_expect(!allowed("127.0.0.2", 5000), "all of 127/8 is the host");
    cr_expect(!allowed("::1", 5000));
    cr_expect(!allowed("::ffff:127.0.0.1", 5000));
    cr_expect(allowed("8.8.8.8", 5000));

    cr_assert_eq(turn_policy_add_rule(pol, "127.0.0.0/8", true), 0);
    cr_assert_eq(turn_policy_add_rule(pol, "::1", true), 0);
    cr_expect(allowed("127.0.0.1", 5000));
    cr_expect(allowed("127.0.0.2", 5000));
    cr_expect(allowed("::1", 5000));
    cr_expect(!allowed("127.0.0.1", 3478), "a listening port, whatever the rules");
    cr_expect(!allowed("127.0.0.2", 3478), "another loopback address reaches it too");
    cr_expect(!allowed("::1", 3478));
}

Test(policy, loopback_rule_is_narrow)
{
    cr_assert_eq(turn_policy_add_rule(pol, "126.0.0.0/7", true), 0); /* 126/8 and 127/8 */
    cr_expect(!allowed("127.0.0.1", 5000), "a rule wider than loopback does not open it");
    cr_assert_eq(turn_policy_add_rule(pol, "127.1.0.0/16", true), 0);
    cr_expect(allowed("127.1.2.3", 5000));
    cr_expect(!allowed("127.0.0.1", 5000));
    cr_assert_eq(turn_policy_add_rule(pol, "::/127", true), 0);
    cr_expect(!allowed("::1", 5000));
}

static bool held_none(const void *arg, const union turn_addr *a)
{
    (void)arg;
    (void)a;
    return false;
}

/* A relay port that no socket holds is refused even under an allow rule
 * that covers the relay address (loopback relay in a test setup). */
Test(policy, relay_port_not_held_refused_even_when_allowed)
{
    declare_relay("127.0.0.1");
    turn_policy_set_relay_ports(pol, 49152, 65535);
    cr_assert_eq(turn_policy_add_rule(pol, "127.0.0.0/8", true), 0);
    turn_policy_set_relay_oracle(pol, held_50000, NULL);
    cr_expect(allowed("127.0.0.1", 50000));
    cr_expect(!allowed("127.0.0.1", 50001));
    cr_expect(allowed("127.0.0.1", 40000), "outside the range: the loopback rule");
    cr_expect(allowed("127.0.0.2", 50001), "not a relay address");
}

Test(policy, relay_peer_and_held)
{
    union turn_addr in_range = peer("10.1.2.3", 50001), outside = peer("10.1.2.3", 22);
    union turn_addr mapped = peer("::ffff:10.1.2.3", 50001), other = peer("10.1.2.4", 50001);

    declare_relay("10.1.2.3");
    turn_policy_set_relay_ports(pol, 49152, 65535);
    cr_expect(turn_policy_relay_peer(pol, &in_range));
    cr_expect(turn_policy_relay_peer(pol, &mapped));
    cr_expect(!turn_policy_relay_peer(pol, &outside));
    cr_expect(!turn_policy_relay_peer(pol, &other));
    cr_expect(turn_policy_relay_held(pol, &in_range), "no oracle: every port counts");
    turn_policy_set_relay_oracle(pol, held_none, NULL);
    cr_expect(!turn_policy_relay_held(pol, &in_range));
}

/* For a permission already installed (port ignored): whether some port of
 * the IP may be a peer. */
Test(policy, ip_allowed_ignores_the_port)
{
    union turn_addr relay = peer("10.1.2.3", 0), host = peer("93.184.216.40", 0);
    union turn_addr pub = peer("8.8.8.8", 0), priv = peer("10.9.9.9", 0);

    declare_relay("10.1.2.3");
    declare_self("93.184.216.40");
    cr_assert_eq(turn_policy_add_self_port(pol, 0), 0); /* port 0 must not matter */
    turn_policy_set_relay_ports(pol, 49152, 65535);
    turn_policy_set_relay_oracle(pol, held_none, NULL);
    cr_expect(turn_policy_ip_allowed(pol, &relay), "relay ports may be held later");
    cr_expect(!turn_policy_ip_allowed(pol, &host));
    cr_expect(turn_policy_ip_allowed(pol, &pub));
    cr_expect(!turn_policy_ip_allowed(pol, &priv));
    cr_assert_eq(turn_policy_add_rule(pol, "10.1.2.3", false), 0);
    cr_expect(!turn_policy_ip_allowed(pol, &relay), "deny-peer wins");
    cr_assert_eq(turn_policy_add_rule(pol, "8.8.8.0/24", false), 0);
    cr_expect(!turn_policy_ip_allowed(pol, &pub));
}
