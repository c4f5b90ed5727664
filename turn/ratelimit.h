/* A rate limit on answers to unauthenticated UDP requests (401 and 438
 * challenges, Binding responses, early errors), per source prefix (/24 for
 * IPv4, /48 for IPv6): UDP sources can be forged, so without a limit the
 * server is a reflector. One fixed-size table shared by every worker
 * (lock-free: one atomic word per bucket), so threads do not multiply the
 * limit; prefixes that collide share a bucket.
 *
 * A prefix earns more: each request from it that passes MESSAGE-INTEGRITY
 * (which needs a nonce bound to the sender's IP, so proves that the sender
 * receives our answers) credits its bucket TURN_RATELIMIT_CREDIT tokens, up
 * to TURN_RATELIMIT_EARN_FACTOR bursts. A busy NAT whose users complete
 * their Allocates keeps getting challenges answered; a spoofed victim
 * prefix, which never authenticates, gets at most one burst plus the rate. */
#ifndef TURN_RATELIMIT_H
#define TURN_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

#define TURN_RATELIMIT_CREDIT 2       /* tokens per authenticated request */
#define TURN_RATELIMIT_EARN_FACTOR 32 /* earned tokens cap: this many bursts */

struct turn_ratelimit;

/* rate answers per second per prefix, bursts of 2 * rate; rate 0 = off.
 * Returns 0, -ENOMEM or -EIO. Thread-safe from here on; free it after every user. */
int turn_ratelimit_new(struct turn_ratelimit **out, uint32_t rate);
/* Accepts NULL. */
void turn_ratelimit_free(struct turn_ratelimit *rl);

/* Changes the rate (a reload); buckets keep their tokens. */
void turn_ratelimit_set_rate(struct turn_ratelimit *rl, uint32_t rate);

/* Caps the answers all prefixes together spend from their base tokens at
 * rate per second (bursts of 2 * rate); earned tokens are not capped.
 * A flood forged from many prefixes then costs at most this many answers,
 * whatever the number of prefixes. 0 (the start value) = no cap. */
void turn_ratelimit_set_total(struct turn_ratelimit *rl, uint32_t rate);

/* Takes one token for src's prefix; false when its bucket is empty. now is
 * in monotonic seconds; callers on other threads may be a second apart. */
bool turn_ratelimit_allow(struct turn_ratelimit *rl, const union turn_addr *src, uint64_t now);

/* Credits src's prefix for an authenticated request (see above). */
void turn_ratelimit_credit(struct turn_ratelimit *rl, const union turn_addr *src, uint64_t now);

#endif
