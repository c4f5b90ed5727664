/* A rate limit on answers to unauthenticated UDP requests (401 and 438
 * challenges, Binding responses, early errors), per source prefix (/24 for
 * IPv4, /48 for IPv6): those answers are larger than the requests, and UDP
 * sources can be forged, so without a limit the server is a reflector. One
 * table per worker, fixed size: prefixes that collide share a bucket. */
#ifndef TURN_RATELIMIT_H
#define TURN_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

struct turn_ratelimit;

/* rate answers per second per prefix, bursts of 2 * rate; rate 0 = off.
 * Returns 0, -ENOMEM or -EIO. */
int turn_ratelimit_new(struct turn_ratelimit **out, uint32_t rate);
void turn_ratelimit_free(struct turn_ratelimit *rl);

/* Takes one token for src's prefix; false when its bucket is empty. */
bool turn_ratelimit_allow(struct turn_ratelimit *rl, const union turn_addr *src, uint64_t now);

#endif
