/* Per-worker protocol counters. */
#include "stats.h"

const uint16_t turn_stats_error_codes[TURN_STATS_N_CODES] = {
    300, 400, 401, 403, 420, 437, 438, 440, 441, 442, 443, 486, 508, 500,
};

void turn_stats_error(struct turn_stats *stats, int code)
{
    for (unsigned i = 0; i < TURN_STATS_N_CODES; i++) {
        if (turn_stats_error_codes[i] == code) {
            stats->errors[i]++;
            return;
        }
    }
    stats->errors[TURN_STATS_N_CODES - 1]++; /* 500 and anything unlisted */
}

const uint32_t turn_stats_lifetime_bounds[TURN_STATS_N_LIFETIME - 1] = {
    60, 300, 600, 1800, 3600, 10800, 86400,
};

void turn_stats_lifetime(struct turn_stats *stats, uint64_t seconds)
{
    unsigned i = 0;

    while (i < TURN_STATS_N_LIFETIME - 1 && seconds > turn_stats_lifetime_bounds[i]) {
        i++;
    }
    stats->lifetime_buckets[i]++;
    stats->lifetime_sum += seconds;
}
