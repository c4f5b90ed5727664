/* Allocation quotas shared by all workers: a total cap and a cap per
 * username. Touched on Allocate and on release only, never per packet; a
 * mutex guards it. Usernames are kept only as keyed hashes. */
#ifndef TURN_QUOTA_H
#define TURN_QUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TURN_QUOTA_HASH_LEN 16

struct turn_quota;

/* total and per_user: 0 means unlimited. Returns 0 or -ENOMEM. */
int turn_quota_new(struct turn_quota **out, uint32_t total, uint32_t per_user);
void turn_quota_free(struct turn_quota *quota);

/* Changes the caps for allocations taken from now on (0 = unlimited);
 * allocations held beyond a lowered cap carry on. Any thread. */
void turn_quota_set_limits(struct turn_quota *quota, uint32_t total, uint32_t per_user);

/* Keyed hash of whom a quota counts (the key is random per process): a
 * static user's name, or a REST credential's id (rest true); the two never
 * share a count. */
void turn_quota_hash(const struct turn_quota *quota, bool rest, const uint8_t *id, size_t len,
                     uint8_t hash[TURN_QUOTA_HASH_LEN]);

/* Takes one allocation for this user. Returns 0, -EDQUOT (a cap is
 * reached) or -ENOMEM. */
int turn_quota_take(struct turn_quota *quota, const uint8_t hash[TURN_QUOTA_HASH_LEN]);
/* Gives one back. */
void turn_quota_release(struct turn_quota *quota, const uint8_t hash[TURN_QUOTA_HASH_LEN]);

/* Allocations held now, all workers. */
uint64_t turn_quota_in_use(const struct turn_quota *quota);

#endif
