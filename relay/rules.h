/* The rules the workers apply to requests: credentials (realm, secrets,
 * static users), the peer policy and the limits a reload may change. Built
 * from the configuration at start and again on SIGHUP, and handed to
 * running workers without stopping them: allocations, connections and
 * calls carry on. */
#ifndef RELAY_RULES_H
#define RELAY_RULES_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "settings.h"
#include "turn/auth.h"
#include "turn/policy.h"
#include "turn/server.h"

struct relay_env;

/* The reloadable keys the workers read, by value: a worker copies them
 * whole when it takes new rules, so it never reads memory the daemon
 * writes. They govern what comes next (new allocations, permissions,
 * connections, packets); what exists keeps what it was granted. */
struct relay_settings {
    RELAY_SETTINGS_KEYS(RELAY_SETTING_FIELD) /* relay/settings.h */
    union turn_addr alternates[BR_MAX_LISTEN];
    size_t n_alternates;
};

struct rules {
    struct turn_auth *auth;
    struct turn_policy *policy;
    struct relay_settings settings;
};

/* Builds rules from cfg's credentials and peer rules, and the addresses
 * the daemon is running with (env: relay and external addresses; running:
 * listening and admin ports). prev, on a reload, lends its nonce key so
 * that clients' nonces stay valid. Returns 0, or a negative errno with the
 * key and reason in err. */
int rules_build(struct rules *out, const struct br_config *cfg, const struct br_config *running,
                const struct relay_env *env, const struct rules *prev, char *err, size_t err_len);
void rules_free(struct rules *r);

/* The limits of s as the TURN server takes them: every field of out but
 * auth, policy, quota, ops and unauth_limit (the worker sets those).
 * out->alternates borrows s->alternates. */
void relay_settings_turn(const struct relay_settings *s, struct turn_server_config *out);

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
