/* Interface addresses of this host. */
#include "netinfo.h"

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

static bool usable(const struct ifaddrs *ifa, int family)
{
    const union turn_addr *a = (const union turn_addr *)ifa->ifa_addr;

    if (!a || a->sa.sa_family != family || !(ifa->ifa_flags & IFF_UP) ||
        (ifa->ifa_flags & IFF_LOOPBACK)) {
        return false;
    }
    if (family == AF_INET6) {
        return !IN6_IS_ADDR_LINKLOCAL(&a->in6.sin6_addr) &&
               !IN6_IS_ADDR_LOOPBACK(&a->in6.sin6_addr);
    }
    return a->in4.sin_addr.s_addr != htonl(INADDR_ANY);
}

int netinfo_default_ip(int family, union turn_addr *out)
{
    struct ifaddrs *list, *ifa;
    int err = -ENOENT;

    if (getifaddrs(&list) < 0) {
        return -errno;
    }
    for (ifa = list; ifa; ifa = ifa->ifa_next) {
        if (usable(ifa, family)) {
            memset(out, 0, sizeof(*out));
            memcpy(out, ifa->ifa_addr, family == AF_INET6 ? sizeof(out->in6) : sizeof(out->in4));
            turn_addr_set_port(out, 0);
            err = 0;
            break;
        }
    }
    freeifaddrs(list);
    return err;
}

static int addr_cmp(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(union turn_addr));
}

/* Adds sa (zeroed around, port 0, canonical) unless the set is full. */
static void set_add(struct netinfo_set *set, const struct sockaddr *sa)
{
    union turn_addr a;

    memset(&a, 0, sizeof(a));
    memcpy(&a, sa, sa->sa_family == AF_INET6 ? sizeof(a.in6) : sizeof(a.in4));
    turn_addr_canonical(&a);
    if (a.sa.sa_family == AF_INET6) {
        a.in6.sin6_scope_id = 0;
        a.in6.sin6_flowinfo = 0;
    }
    turn_addr_set_port(&a, 0);
    for (size_t i = 0; i < set->n; i++) {
        if (memcmp(&set->addr[i], &a, sizeof(a)) == 0) {
            return;
        }
    }
    if (set->n == TURN_POLICY_MAX_SELF) {
        set->truncated = true;
        return;
    }
    set->addr[set->n++] = a;
}

int netinfo_read(struct netinfo_set *out)
{
    struct ifaddrs *list, *ifa;

    memset(out, 0, sizeof(*out));
    if (getifaddrs(&list) < 0) {
        return -errno;
    }
    for (ifa = list; ifa; ifa = ifa->ifa_next) {
        const struct sockaddr *sa = ifa->ifa_addr;
        if (sa && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)) {
            set_add(out, sa);
        }
    }
    freeifaddrs(list);
    qsort(out->addr, out->n, sizeof(out->addr[0]), addr_cmp);
    return 0;
}

bool netinfo_equal(const struct netinfo_set *a, const struct netinfo_set *b)
{
    return a->n == b->n && a->truncated == b->truncated &&
           memcmp(a->addr, b->addr, a->n * sizeof(a->addr[0])) == 0;
}

int netinfo_add_self(struct turn_policy *policy)
{
    struct netinfo_set set;
    int err = netinfo_read(&set);

    if (err < 0) {
        return err;
    }
    for (size_t i = 0; i < set.n; i++) {
        if (turn_policy_add_self(policy, &set.addr[i]) < 0) {
            err = -ENOSPC;
        }
    }
    return set.truncated ? -ENOSPC : err;
}
