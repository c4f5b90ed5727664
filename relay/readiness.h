/* Capacity-aware readiness: /readyz turns 503 when a resource's use reaches
 * ready-high percent of its limit, and ready again only once every resource
 * is below ready-low percent (hysteresis, so it does not flap). A signal to
 * load balancers only: nothing is refused because of it. */
#ifndef RELAY_READINESS_H
#define RELAY_READINESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum readiness_resource {
    READINESS_ALLOCATIONS, /* against total-quota */
    READINESS_RELAY_PORTS, /* of the fuller family, against the relay-ports range */
    READINESS_FDS,         /* open descriptors, against RLIMIT_NOFILE */
    READINESS_N,
};

/* Metric label and reason word of each resource. */
extern const char *const readiness_names[READINESS_N];

struct readiness {
    uint64_t used[READINESS_N];
    uint64_t limit[READINESS_N]; /* 0: no limit, never full */
    bool full;
    unsigned reason; /* while full: the resource used most, in proportion */
};

/* Evaluates used against limit with the water marks (percent, 1 <= low <
 * high <= 100): full from the first resource at or above high until every
 * one is below low. */
void readiness_update(struct readiness *r, unsigned high, unsigned low);

/* "allocations 91% of 1000" for the reason while full; "" otherwise. */
void readiness_describe(const struct readiness *r, char *buf, size_t len);

#endif
