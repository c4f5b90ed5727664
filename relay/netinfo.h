/* The host's own addresses, from getifaddrs(3): defaults for relay-ip and
 * the "self" set of the peer policy, read again while running so that an
 * address added to an interface later is refused as a peer too. */
#ifndef RELAY_NETINFO_H
#define RELAY_NETINFO_H

#include <stdbool.h>
#include <stddef.h>

#include "turn/addr.h"
#include "turn/policy.h"

/* The first global (not loopback, link-local or wildcard) address of
 * family on an interface that is up. Returns 0 or -ENOENT. */
int netinfo_default_ip(int family, union turn_addr *out);

/* Every IPv4 and IPv6 address of every interface (up or not), port 0,
 * IPv4-mapped canonicalised, sorted and without duplicates; what does not
 * fit is left out and flagged. */
struct netinfo_set {
    size_t n;
    bool truncated;
    union turn_addr addr[TURN_POLICY_MAX_SELF];
};

/* Returns 0 or a negative errno (getifaddrs failed; out is then empty). */
int netinfo_read(struct netinfo_set *out);

/* Whether two reads found the same addresses. */
bool netinfo_equal(const struct netinfo_set *a, const struct netinfo_set *b);

/* Declares every interface address of this host as self in the policy.
 * Returns 0, -ENOSPC when the policy could not hold them all, or a
 * negative errno from getifaddrs. */
int netinfo_add_self(struct turn_policy *policy);

#endif
