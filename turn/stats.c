/* Per-worker protocol counters. */
#include "stats.h"

const uint16_t turn_stats_error_codes[TURN_STATS_N_CODES] = {
    400, 401, 403, 420, 437, 438, 440, 441, 442, 443, 486, 508, 500,
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
