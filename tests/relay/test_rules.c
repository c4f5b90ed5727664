/* Tests for relay/rules: rules_build turns a configuration into working
 * credentials (realm, static users, REST secrets), a peer policy (deny-
 * and allow-peer, the running listeners and admin port refused, relay
 * addresses allowed on held relay ports only) and the reloadable settings;
 * errors name the key and the reason and leave out untouched; a reload
 * keeps the nonce key of the rules it replaces; relay_settings_turn maps
 * the settings onto the TURN server's limits. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/relay_ports.h"
#include "relay/rules.h"
#include "relay/worker.h"
#include "turn/stun_msg.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#define T0 1700000000u
#define REALM "example.org"

static struct br_config cfg;
static struct relay_ports *ports;
static struct relay_env env;
static struct rules rules, rules2;
static char err[256];

static void setup(void)
{
    memset(&cfg, 0, sizeof(cfg));
    memset(&rules, 0, sizeof(rules));
    memset(&rules2, 0, sizeof(rules2));
    ports = calloc(1, sizeof(*ports));
    cr_assert_not_null(ports);
    env = (struct relay_env){.port_min = 50000, .port_max = 50100, .ports = ports};
    cr_assert_eq(turn_addr_parse(&env.relay_ip4, "203.0.113.10", 0), 0);
    err[0] = '\0';
}

static void teardown(void)
{
    rules_free(&rules);
    rules_free(&rules2);
    br_config_release(&cfg);
    free(ports);
}

TestSuite(rules, .init = setup, .fini = teardown);

/* Loads cfg from "blindrelay" + args (NULL-terminated) as the daemon does. */
static void load(const char *const *args)
{
    char *argv[64];
    int argc = 0;

    argv[argc++] = "blindrelay";
    for (; *args; args++) {
        cr_assert_lt(argc, 63);
        argv[argc++] = (char *)*args;
    }
    argv[argc] = NULL;
    br_config_release(&cfg);
    cr_assert_eq(br_config_load(&cfg, argc, argv, stderr), 0);
}

#define LOAD(...) load((const char *const[]){__VA_ARGS__, NULL})

/* Adds an entry the configuration parser would have refused. */
static void push(struct br_strlist *list, const char *item)
{
    cr_assert_lt(list->n, BR_MAX_LIST);
    list->items[list->n] = strdup(item);
    cr_assert_not_null(list->items[list->n]);
    list->n++;
}

static union turn_addr addr(const char *text)
{
    union turn_addr a;
    cr_assert_eq(turn_addr_parse(&a, text, 0), 0, "%s", text);
    return a;
}

static bool allowed(const struct rules *r, const char *peer)
{
    union turn_addr a = addr(peer);
    return turn_policy_allowed(r->policy, &a);
}

/* The outcome of an Allocate carrying user/password under nonce, as the
 * TURN server would check it with r's credentials: 0 or a STUN error. */
static int check(const struct rules *r, const char *user, const char *password, const char *nonce,
                 const union turn_addr *client)
{
    static const uint8_t tid[STUN_TID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    uint8_t wire[512], key[TURN_AUTH_MAX_KEY];
    size_t key_len = turn_auth_key(STUN_PW_MD5, (const uint8_t *)user, strlen(user), REALM,
                                   password, strlen(password), key);
    struct stun_builder b;
    struct stun_msg msg;
    struct turn_auth_result res;
    int len;

    stun_build_start(&b, wire, sizeof(wire), TURN_ALLOCATE, STUN_REQUEST, tid);
    stun_build_u32(&b, STUN_ATTR_REQUESTED_TRANSPORT, 17u << 24);
    stun_build_attr(&b, STUN_ATTR_USERNAME, user, strlen(user));
    stun_build_attr(&b, STUN_ATTR_REALM, REALM, strlen(REALM));
    stun_build_attr(&b, STUN_ATTR_NONCE, nonce, strlen(nonce));
    stun_build_integrity(&b, STUN_ATTR_MESSAGE_INTEGRITY, key, key_len);
    len = stun_build_finish(&b);
    cr_assert_gt(len, 0);
    cr_assert_eq(stun_msg_decode(&msg, wire, (size_t)len), 0);
    memset(&res, 0, sizeof(res));
    turn_auth_check(r->auth, &msg, client, T0, &res);
    return res.code;
}

Test(rules, credentials_come_from_the_configuration)
{
    union turn_addr client = addr("198.51.100.7:40000");
    char nonce[TURN_NONCE_MAX + 1], pw[29];

    LOAD("--realm", REALM, "--auth-secret", "first", "--auth-secret", "second", "--user",
         "alice:wonderland");
    cr_assert_eq(rules_build(&rules, &cfg, &cfg, &env, NULL, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(turn_auth_realm(rules.auth), REALM);
    cr_assert_gt(turn_auth_nonce(rules.auth, &client, T0, nonce), 0);

    cr_assert_eq(check(&rules, "alice", "wonderland", nonce, &client), 0, "static user");
    cr_assert_eq(check(&rules, "alice", "looking-glass", nonce, &client), 401);
    cr_assert_eq(check(&rules, "bob", "wonderland", nonce, &client), 401, "unknown user");
    /* REST credentials under either secret (RFC 8656 does not cover them;
     * draft-uberti-behave-turn-rest) */
    turn_auth_rest_password("first", "1800000000:bob", pw);
    cr_assert_eq(check(&rules, "1800000000:bob", pw, nonce, &client), 0, "first secret");
    turn_auth_rest_password("second", "1800000000:bob", pw);
    cr_assert_eq(check(&rules, "1800000000:bob", pw, nonce, &client), 0, "second secret");
    turn_auth_rest_password("third", "1800000000:bob", pw);
    cr_assert_eq(check(&rules, "1800000000:bob", pw, nonce, &client), 401, "not a secret of ours");
}

Test(rules, peer_rules_from_the_configuration)
{
    LOAD("--deny-peer", "8.8.8.0/24", "--allow-peer", "10.1.0.0/16", "--deny-peer",
         "2001:4860::/32");
    cr_assert_eq(rules_build(&rules, &cfg, &cfg, &env, NULL, err, sizeof(err)), 0, "%s", err);
    cr_assert_not(allowed(&rules, "8.8.8.8:1000"), "deny-peer");
    cr_assert(allowed(&rules, "8.8.4.4:1000"), "outside deny-peer");
    cr_assert_not(allowed(&rules, "[2001:4860::8888]:1000"), "deny-peer IPv6");
    cr_assert(allowed(&rules, "10.1.2.3:1000"), "allow-peer opens part of 10/8");
    cr_assert_not(allowed(&rules, "10.2.0.1:1000"), "the rest of 10/8 stays refused");
}

/* The running daemon's ports are refused on the host even where an
 * allow-peer rule opens loopback: the listeners (UDP/TCP and TLS) and the
 * admin port of `running`, not of the new configuration (those keys take
 * effect only at a restart). */
Test(rules, the_running_listeners_are_refused_as_peers)
{
    struct br_config running;

    LOAD("--allow-peer", "127.0.0.0/8", "--admin-listen", "127.0.0.1:9700");
    memset(&running, 0, sizeof(running));
    running.listen[0] = addr("0.0.0.0:3478");
    running.listen[1] = addr("127.0.0.1:3479");
    running.n_listen = 2;
    running.tls_listen[0] = addr("0.0.0.0:5349");
    running.n_tls_listen = 1;
    running.admin_listen = addr("127.0.0.1:9641");
    cr_assert_eq(rules_build(&rules, &cfg, &running, &env, NULL, err, sizeof(err)), 0, "%s", err);

    cr_assert(allowed(&rules, "127.0.0.1:5000"), "allow-peer opened loopback");
    cr_assert_not(allowed(&rules, "127.0.0.1:3478"), "listening port");
    cr_assert_not(allowed(&rules, "127.0.0.1:3479"), "listening port");
    cr_assert_not(allowed(&rules, "127.0.0.1:5349"), "TLS listening port");
    cr_assert_not(allowed(&rules, "127.0.0.1:9641"), "admin port");
    cr_assert(allowed(&rules, "127.0.0.1:9700"), "the new admin port is not the running one");
}

/* A relay address is a peer on a relay port only while one of our relay
 * sockets holds that port (the bitmap in env->ports), and never outside
 * the relay range. */
Test(rules, relay_addresses_on_held_relay_ports_only)
{
    union turn_addr relay = addr("203.0.113.10:50005");

    LOAD("--realm", REALM);
    cr_assert_eq(rules_build(&rules, &cfg, &cfg, &env, NULL, err, sizeof(err)), 0, "%s", err);
    cr_assert_not(allowed(&rules, "203.0.113.10:50005"), "no relay socket there yet");
    relay_ports_mark(ports, &relay, true);
    cr_assert(allowed(&rules, "203.0.113.10:50005"), "relay to relay");
    cr_assert_not(allowed(&rules, "203.0.113.11:50005"), "another address of TEST-NET-3");
    cr_assert_not(allowed(&rules, "203.0.113.10:40000"), "our address outside the relay range");
    relay_ports_mark(ports, &relay, false);
    cr_assert_not(allowed(&rules, "203.0.113.10:50005"), "the relay socket closed");
}

Test(rules, settings_are_copied_from_the_configuration)
{
    LOAD("--default-lifetime", "700", "--max-lifetime", "7200", "--max-permissions", "17",
         "--max-channels", "19", "--max-bps", "123456", "--rfc5766-channels", "false",
         "--alternate-server", "198.51.100.5:3479", "--alternate-server", "[2001:db8::5]",
         "--handshake-timeout", "11", "--idle-timeout", "31", "--stream-buffer", "65536",
         "--max-unauth-frame", "1000", "--udp-gso", "false");
    cr_assert_eq(rules_build(&rules, &cfg, &cfg, &env, NULL, err, sizeof(err)), 0, "%s", err);

    const struct relay_settings *s = &rules.settings;
    cr_assert_eq(s->default_lifetime, 700);
    cr_assert_eq(s->max_lifetime, 7200);
    cr_assert_eq(s->max_permissions, 17);
    cr_assert_eq(s->max_channels, 19);
    cr_assert_eq(s->max_bps, 123456);
    cr_assert_not(s->rfc5766_channels);
    cr_assert_eq(s->n_alternates, 2);
    cr_assert(turn_addr_equal(&s->alternates[0], &cfg.alternates[0]));
    cr_assert(turn_addr_equal(&s->alternates[1], &cfg.alternates[1]));
    cr_assert_eq(turn_addr_port(&s->alternates[1]), 3478, "default port");
    cr_assert_eq(s->handshake_timeout, 11);
    cr_assert_eq(s->idle_timeout, 31);
    cr_assert_eq(s->stream_buffer, 65536);
    cr_assert_eq(s->max_unauth_frame, 1000);
    cr_assert_not(s->udp_gso);

    /* the defaults are copied too, not left zero */
    LOAD("--realm", REALM);
    cr_assert_eq(rules_build(&rules2, &cfg, &cfg, &env, NULL, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(rules2.settings.default_lifetime, 600);
    cr_assert_eq(rules2.settings.max_lifetime, 3600);
    cr_assert(rules2.settings.rfc5766_channels);
    cr_assert(rules2.settings.udp_gso);
    cr_assert_eq(rules2.settings.n_alternates, 0);
}

/* A bad entry fails the build with the key and the reason, and leaves out
 * as it was (the running rules stay). */
static void expect_error(const char *want)
{
    struct rules before;

    memset(&rules, 0x5c, sizeof(rules));
    before = rules;
    snprintf(err, sizeof(err), "untouched");
    cr_assert_eq(rules_build(&rules, &cfg, &cfg, &env, NULL, err, sizeof(err)), -EINVAL);
    cr_assert_str_eq(err, want);
    cr_assert_eq(memcmp(&rules, &before, sizeof(rules)), 0, "out was written");
    memset(&rules, 0, sizeof(rules));
}

Test(rules, bad_allow_peer_names_the_key_and_value)
{
    LOAD("--allow-peer", "10.0.0.0/8");
    push(&cfg.allow_peer, "10.0.0.1/8");
    expect_error("allow-peer: invalid CIDR '10.0.0.1/8'");
}

Test(rules, bad_deny_peer_names_the_key_and_value)
{
    LOAD("--deny-peer", "10.0.0.0/8");
    push(&cfg.deny_peer, "2001:db8::/129");
    expect_error("deny-peer: invalid CIDR '2001:db8::/129'");
}

Test(rules, bad_secret_names_the_key)
{
    LOAD("--auth-secret", "fine");
    push(&cfg.secrets, "");
    expect_error("auth-secret: cannot set up credentials: Invalid argument");
}

/* A reload lends the old rules' nonce key: nonces handed out before it
 * stay valid after, even once the old rules are freed; without prev a
 * new key makes them stale (438). */
Test(rules, reload_keeps_the_nonce_key)
{
    union turn_addr client = addr("198.51.100.7:40000");
    char before[TURN_NONCE_MAX + 1], after[TURN_NONCE_MAX + 1];
    struct rules fresh;

    LOAD("--realm", REALM, "--user", "alice:wonderland");
    cr_assert_eq(rules_build(&rules, &cfg, &cfg, &env, NULL, err, sizeof(err)), 0, "%s", err);
    cr_assert_gt(turn_auth_nonce(rules.auth, &client, T0, before), 0);

    LOAD("--realm", REALM, "--user", "alice:looking-glass", "--deny-peer", "8.8.8.0/24");
    cr_assert_eq(rules_build(&rules2, &cfg, &cfg, &env, &rules, err, sizeof(err)), 0, "%s", err);
    rules_free(&rules); /* the daemon frees the old rules once every worker moved on */
    cr_assert_gt(turn_auth_nonce(rules2.auth, &client, T0, after), 0);
    cr_assert_str_eq(after, before, "same key, same nonce");
    cr_assert_eq(check(&rules2, "alice", "looking-glass", before, &client), 0,
                 "a nonce from before the reload, with the new password");
    cr_assert_eq(check(&rules2, "alice", "wonderland", before, &client), 401, "old password");
    cr_assert_not(allowed(&rules2, "8.8.8.8:1000"), "the new peer rules");

    cr_assert_eq(rules_build(&fresh, &cfg, &cfg, &env, NULL, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(check(&fresh, "alice", "looking-glass", before, &client), 438,
                 "a new key: the old nonce is stale");
    rules_free(&fresh);
}

/* Build, reload, free: nothing is left behind, failed builds included.
 * (Criterion passes a test whatever LeakSanitizer reports at exit, so the
 * check is asked for here.) */
Test(rules, free_is_idempotent_and_nothing_leaks)
{
    LOAD("--realm", REALM, "--auth-secret", "s", "--user", "a:b", "--deny-peer", "8.8.8.0/24");
    cr_assert_eq(rules_build(&rules, &cfg, &cfg, &env, NULL, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(rules_build(&rules2, &cfg, &cfg, &env, &rules, err, sizeof(err)), 0, "%s", err);
    push(&cfg.allow_peer, "bad");
    struct rules failed = {0};
    cr_assert_lt(rules_build(&failed, &cfg, &cfg, &env, &rules2, err, sizeof(err)), 0);
    rules_free(&rules);
    cr_assert_null(rules.auth);
    cr_assert_null(rules.policy);
    rules_free(&rules);
    rules_free(&rules2);
    br_config_release(&cfg);
#ifdef __SANITIZE_ADDRESS__
    cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "memory leaked (report above)");
#endif
}

Test(rules, settings_map_onto_the_turn_server_limits)
{
    struct relay_settings s = {
        .default_lifetime = 601,
        .max_lifetime = 3601,
        .max_permissions = 33,
        .max_channels = 65,
        .max_bps = 4000000000u,
        .rfc5766_channels = true,
        .n_alternates = 1,
        .stream_buffer = 4096,
    };
    struct turn_server_config out;
    struct turn_server_config sentinel;

    s.alternates[0] = addr("198.51.100.5:3478");
    memset(&out, 0x77, sizeof(out));
    sentinel = out;
    relay_settings_turn(&s, &out);
    cr_assert_eq(out.default_lifetime, 601);
    cr_assert_eq(out.max_lifetime, 3601);
    cr_assert_eq(out.max_permissions, 33);
    cr_assert_eq(out.max_channels, 65);
    cr_assert_eq(out.max_bps, 4000000000u, "every bit of the uint32 key kept");
    cr_assert(out.rfc5766_channels);
    cr_assert_eq(out.alternates, s.alternates, "borrowed, not copied");
    cr_assert_eq(out.n_alternates, 1);
    /* auth, policy, quota and ops belong to the caller; so does the shared
     * unauthenticated rate limit, which the worker sets before the call
     * (the header's "every field but auth, policy, quota and ops" leaves
     * it out, but overwriting it would turn the limit off) */
    cr_assert_eq(memcmp(&out.unauth_limit, &sentinel.unauth_limit, sizeof(out.unauth_limit)), 0);
    cr_assert_eq(memcmp(&out.auth, &sentinel.auth, sizeof(out.auth)), 0);
    cr_assert_eq(memcmp(&out.policy, &sentinel.policy, sizeof(out.policy)), 0);
    cr_assert_eq(memcmp(&out.quota, &sentinel.quota, sizeof(out.quota)), 0);
    cr_assert_eq(memcmp(&out.ops, &sentinel.ops, sizeof(out.ops)), 0);

    s.rfc5766_channels = false;
    s.n_alternates = 0;
    relay_settings_turn(&s, &out);
    cr_assert_not(out.rfc5766_channels);
    cr_assert_eq(out.n_alternates, 0);
}
