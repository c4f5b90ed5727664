/* The rules the workers apply to requests: credentials (realm, secrets,
 * static users) and the peer policy. Built from the configuration at start
 * and again on SIGHUP, and handed to running workers without stopping
 * them: allocations, connections and calls carry on. */
#ifndef RELAY_RULES_H
#define RELAY_RULES_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "turn/auth.h"
#include "turn/policy.h"

struct relay_env;

struct rules {
    struct turn_auth *auth;
    struct turn_policy *policy;
};

/* Builds rules from cfg's credentials and peer rules, and the addresses
 * the daemon is running with (env: relay and external addresses; running:
 * listening and admin ports). prev, on a reload, lends its nonce key so
 * that clients' nonces stay valid. Returns 0, or a negative errno with the
 * key and reason in err. */
int rules_build(struct rules *out, const struct br_config *cfg, const struct br_config *running,
                const struct relay_env *env, const struct rules *prev, char *err, size_t err_len);
void rules_free(struct rules *r);

/* The current rules, shared with the workers. A worker polls generation
 * once a second and, when it moved, takes the new rules under the lock and
 * acknowledges in its own counter; the old rules are freed once every
 * worker has. */
struct rules_box {
    pthread_mutex_t lock;
    struct rules current;
    _Atomic uint64_t generation;
};

#endif
