/* Interface addresses of this host. */
#include "netinfo.h"

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
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

int netinfo_add_self(struct turn_policy *policy)
{
    struct ifaddrs *list, *ifa;
    int err = 0;

    if (getifaddrs(&list) < 0) {
        return -errno;
    }
    for (ifa = list; ifa; ifa = ifa->ifa_next) {
        const struct sockaddr *sa = ifa->ifa_addr;
        if (sa && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)) {
            union turn_addr a;
            memset(&a, 0, sizeof(a));
            memcpy(&a, sa, sa->sa_family == AF_INET6 ? sizeof(a.in6) : sizeof(a.in4));
            if (turn_policy_add_self(policy, &a) < 0) {
                err = -ENOSPC;
            }
        }
    }
    freeifaddrs(list);
    return err;
}
