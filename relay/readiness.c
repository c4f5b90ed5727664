/* Capacity-aware readiness: the water marks and their hysteresis. */
#include "relay/readiness.h"

#include <stdio.h>

const char *const readiness_names[READINESS_N] = {
    [READINESS_ALLOCATIONS] = "allocations",
    [READINESS_RELAY_PORTS] = "relay_ports",
    [READINESS_FDS] = "fds",
};

/* used / limit >= percent / 100, in integers: limits are far below 2^57. */
static bool at_least(const struct readiness *r, unsigned i, unsigned percent)
{
    return r->limit[i] && r->used[i] * 100 >= r->limit[i] * percent;
}

static double share(const struct readiness *r, unsigned i)
{
    return r->limit[i] ? (double)r->used[i] / (double)r->limit[i] : 0;
}

void readiness_update(struct readiness *r, unsigned high, unsigned low)
{
    bool any_high = false, any_low = false;

    for (unsigned i = 0; i < READINESS_N; i++) {
        any_high |= at_least(r, i, high);
        any_low |= at_least(r, i, low);
    }
    r->full = r->full ? any_low : any_high;
    r->reason = 0;
    for (unsigned i = 1; i < READINESS_N; i++) {
        if (share(r, i) > share(r, r->reason)) {
            r->reason = i;
        }
    }
}

void readiness_describe(const struct readiness *r, char *buf, size_t len)
{
    unsigned i = r->reason;

    if (!r->full || !r->limit[i]) {
        snprintf(buf, len, "%s", "");
        return;
    }
    snprintf(buf, len, "%s %llu%% of %llu", readiness_names[i],
             (unsigned long long)(r->used[i] * 100 / r->limit[i]), (unsigned long long)r->limit[i]);
}
