/* Building the credentials and the peer policy from the configuration. */
#include "rules.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "netinfo.h"
#include "relay_ports.h"
#include "worker.h"

static int add_rules(struct turn_policy *p, const struct br_strlist *list, bool allow, char *err,
                     size_t err_len)
{
    for (size_t i = 0; i < list->n; i++) {
        if (turn_policy_add_rule(p, list->items[i], allow) < 0) {
            snprintf(err, err_len, "%s: invalid CIDR '%s'", allow ? "allow-peer" : "deny-peer",
                     list->items[i]);
            return -EINVAL;
        }
    }
    return 0;
}

/* The host's own addresses and ports: refused as peers, except relay
 * addresses on relay ports (relay to relay). */
static void add_self(struct turn_policy *p, const struct br_config *running,
                     const struct relay_env *env)
{
    const union turn_addr *relay[] = {&env->relay_ip4, &env->relay_ip6, &env->external_ip4,
                                      &env->external_ip6};

    if (netinfo_add_self(p) == -ENOSPC) {
        br_log("peer policy: more than %d host addresses; the rest are not refused as "
               "peers by default: add deny-peer rules for them",
               TURN_POLICY_MAX_SELF);
    }
    for (size_t i = 0; i < sizeof(relay) / sizeof(relay[0]); i++) {
        if (relay[i]->sa.sa_family) {
            turn_policy_add_relay(p, relay[i]);
        }
    }
    for (size_t i = 0; i < running->n_listen; i++) {
        turn_policy_add_self(p, &running->listen[i]);
        turn_policy_add_self_port(p, turn_addr_port(&running->listen[i]));
    }
    for (size_t i = 0; i < running->n_tls_listen; i++) {
        turn_policy_add_self_port(p, turn_addr_port(&running->tls_listen[i]));
    }
    if (running->admin_listen.sa.sa_family) {
        turn_policy_add_self_port(p, turn_addr_port(&running->admin_listen));
    }
    turn_policy_set_relay_ports(p, env->port_min, env->port_max);
    turn_policy_set_relay_oracle(p, relay_ports_held, env->ports);
}

static int build_auth(struct rules *r, const struct br_config *cfg, const struct rules *prev,
                      char *err, size_t err_len)
{
    struct turn_auth_config ac = {
        .realm = cfg->realm,
        .secrets = (const char *const *)cfg->secrets.items,
        .n_secrets = cfg->secrets.n,
        .users = (const char *const *)cfg->users.items,
        .n_users = cfg->users.n,
        .nonce_lifetime = cfg->nonce_lifetime,
        .nonces_of = prev ? prev->auth : NULL,
    };
    int rc = turn_auth_new(&r->auth, &ac);

    if (rc < 0) {
        /* the configuration parser already checked each entry's form */
        snprintf(err, err_len, "auth-secret: cannot set up credentials: %s", strerror(-rc));
    }
    return rc;
}

/* Each key of relay/settings.h by value, and the alternate servers. */
static void settings_from(struct relay_settings *s, const struct br_config *cfg)
{
#define COPY_SETTING(kind, field, name, def, min, max, help) s->field = cfg->field;
    RELAY_SETTINGS_KEYS(COPY_SETTING)
#undef COPY_SETTING
    s->n_alternates = cfg->n_alternates;
    memcpy(s->alternates, cfg->alternates, sizeof(s->alternates));
}

void relay_settings_turn(const struct relay_settings *s, struct turn_server_config *out)
{
    out->default_lifetime = s->default_lifetime;
    out->max_lifetime = s->max_lifetime;
    out->max_permissions = s->max_permissions;
    out->max_channels = s->max_channels;
    out->max_bps = s->max_bps;
    out->rfc5766_channels = s->rfc5766_channels;
    out->alternates = s->alternates;
    out->n_alternates = s->n_alternates;
}

int rules_build(struct rules *out, const struct br_config *cfg, const struct br_config *running,
                const struct relay_env *env, const struct rules *prev, char *err, size_t err_len)
{
    struct rules r = {0};
    int rc = turn_policy_new(&r.policy);

    if (rc < 0) {
        snprintf(err, err_len, "out of memory");
        return rc;
    }
    if ((rc = add_rules(r.policy, &cfg->deny_peer, false, err, err_len)) < 0 ||
        (rc = add_rules(r.policy, &cfg->allow_peer, true, err, err_len)) < 0 ||
        (rc = build_auth(&r, cfg, prev, err, err_len)) < 0) {
        rules_free(&r);
        return rc;
    }
    add_self(r.policy, running, env);
    settings_from(&r.settings, cfg);
    *out = r;
    return 0;
}

void rules_free(struct rules *r)
{
    turn_auth_free(r->auth);
    turn_policy_free(r->policy);
    r->auth = NULL;
    r->policy = NULL;
}
