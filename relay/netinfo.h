/* The host's own addresses, from getifaddrs(3): defaults for relay-ip and
 * the "self" set of the peer policy. */
#ifndef RELAY_NETINFO_H
#define RELAY_NETINFO_H

#include "turn/addr.h"
#include "turn/policy.h"

/* The first global (not loopback, link-local or wildcard) address of
 * family on an interface that is up. Returns 0 or -ENOENT. */
int netinfo_default_ip(int family, union turn_addr *out);

/* Declares every interface address of this host as self in the policy.
 * Returns 0, or -ENOSPC when the policy could not hold them all. */
int netinfo_add_self(struct turn_policy *policy);

#endif
