/* Tests for turn/quota.c through the server: user-quota counts a TURN REST
 * credential "<expiry>:<id>" by its id, so that minting a fresh credential
 * (a new expiry) does not reset it, as coturn counts; a static user counts
 * by name; the two kinds never share a count; total-quota holds over all. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "server_harness.h"

#define SECRET "quota-secret"

static const struct turn_stats *stats(void)
{
    return turn_server_stats(H.srv);
}

/* Restarts the harness's server with its static users plus SECRET. */
static void with_rest_secret(void)
{
    static const char *const users[] = {H_ALICE ":" H_ALICE_PW, H_BOB ":" H_BOB_PW};
    static const char *const secrets[] = {SECRET};
    struct turn_auth_config ac = {
        .realm = H_REALM,
        .users = users,
        .n_users = 2,
        .secrets = secrets,
        .n_secrets = 1,
        .nonce_lifetime = 86400,
    };

    turn_auth_free(H.auth);
    cr_assert_eq(turn_auth_new(&H.auth, &ac), 0);
    H.cfg.auth = H.auth;
    h_restart();
}

static void setup(void)
{
    h_setup();
    with_rest_secret();
}

TestSuite(quota, .init = setup, .fini = h_teardown);

/* "<now + offset>:<id>", or "<now + offset>" when id is NULL. */
static const char *rest_user(char *buf, size_t len, uint64_t offset, const char *id)
{
    if (id) {
        snprintf(buf, len, "%llu:%s", (unsigned long long)(H.now.wall + offset), id);
    } else {
        snprintf(buf, len, "%llu", (unsigned long long)(H.now.wall + offset));
    }
    return buf;
}

/* Allocate from a fresh client address (n) as REST username user. */
static int rest_allocate(unsigned n, const char *user)
{
    char client[32], password[29];
    struct turn_tuple t;

    snprintf(client, sizeof(client), "203.0.113.%u:40000", n);
    t = h_tuple(client, TURN_TRANSPORT_UDP);
    turn_auth_rest_password(SECRET, user, password);
    return h_allocate_as(&t, user, password);
}

Test(quota, rest_credentials_of_one_id_share_one_quota)
{
    char u[64];

    h_set_quota(0, 2);
    /* "T1:alice", "T2:alice", ...: one id, a fresh expiry each time */
    cr_assert_eq(rest_allocate(1, rest_user(u, sizeof(u), 3600, "alice")), 0);
    cr_assert_eq(rest_allocate(2, rest_user(u, sizeof(u), 3601, "alice")), 0);
    cr_assert_eq(rest_allocate(3, rest_user(u, sizeof(u), 3602, "alice")), 486,
                 "a third credential for id alice is over user-quota 2");
    cr_assert_eq(rest_allocate(4, rest_user(u, sizeof(u), 3603, "alice")), 486,
                 "and so is a fourth, minted a second later");
    cr_assert_eq(rest_allocate(5, rest_user(u, sizeof(u), 3600, "bob")), 0,
                 "another id has its own quota");
    cr_assert_eq(turn_quota_in_use(H.quota), 3);
    cr_assert_eq(H.ops.open_calls, 3);
}

Test(quota, releasing_one_gives_the_id_its_quota_back)
{
    char u[64], password[29];
    struct turn_tuple t1 = h_tuple("203.0.113.1:40000", TURN_TRANSPORT_UDP);

    h_set_quota(0, 1);
    rest_user(u, sizeof(u), 3600, "alice");
    turn_auth_rest_password(SECRET, u, password);
    cr_assert_eq(h_allocate_as(&t1, u, password), 0);
    cr_assert_eq(rest_allocate(2, rest_user(u, sizeof(u), 7200, "alice")), 486);
    rest_user(u, sizeof(u), 3600, "alice");
    cr_assert_eq(h_refresh_as(&t1, 0, u, password), 0);
    cr_assert_eq(turn_quota_in_use(H.quota), 0);
    cr_assert_eq(rest_allocate(3, rest_user(u, sizeof(u), 7200, "alice")), 0);
}

Test(quota, id_is_everything_after_the_first_colon)
{
    char u[64];

    h_set_quota(0, 1);
    cr_assert_eq(rest_allocate(1, rest_user(u, sizeof(u), 3600, "a:b")), 0);
    cr_assert_eq(rest_allocate(2, rest_user(u, sizeof(u), 3601, "a:b")), 486);
    cr_assert_eq(rest_allocate(3, rest_user(u, sizeof(u), 3600, "a")), 0, "id a is not id a:b");
    cr_assert_eq(rest_allocate(4, rest_user(u, sizeof(u), 3600, "")), 0, "the empty id");
    cr_assert_eq(rest_allocate(5, rest_user(u, sizeof(u), 3601, "")), 486,
                 "the empty id is one id too");
}

/* Without an id there is nothing to count by but the whole username (as
 * coturn does): each credential counts on its own. */
Test(quota, rest_username_without_id_counts_whole)
{
    char u[64];

    h_set_quota(0, 1);
    cr_assert_eq(rest_allocate(1, rest_user(u, sizeof(u), 3600, NULL)), 0);
    cr_assert_eq(rest_allocate(2, rest_user(u, sizeof(u), 3600, NULL)), 486);
    cr_assert_eq(rest_allocate(3, rest_user(u, sizeof(u), 3601, NULL)), 0);
}

Test(quota, static_user_and_rest_id_of_the_same_name_do_not_share)
{
    char u[64];
    struct turn_tuple t = h_tuple("198.51.100.9:40000", TURN_TRANSPORT_UDP);
    struct turn_tuple t2 = h_tuple("198.51.100.10:40000", TURN_TRANSPORT_UDP);

    h_set_quota(0, 1);
    cr_assert_eq(h_allocate(&t), 0, "static alice");
    cr_assert_eq(h_allocate(&t2), 486, "static alice counts by name");
    cr_assert_eq(rest_allocate(1, rest_user(u, sizeof(u), 3600, H_ALICE)), 0,
                 "REST id alice is not static user alice");
    cr_assert_eq(rest_allocate(2, rest_user(u, sizeof(u), 3601, H_ALICE)), 486);
}

Test(quota, total_quota_holds_over_every_id)
{
    char u[64], id[16];

    h_set_quota(3, 10);
    for (unsigned i = 0; i < 3; i++) {
        snprintf(id, sizeof(id), "user%u", i);
        cr_assert_eq(rest_allocate(i + 1, rest_user(u, sizeof(u), 3600, id)), 0);
    }
    cr_assert_eq(rest_allocate(9, rest_user(u, sizeof(u), 3600, "user9")), 486);
    cr_assert_eq(turn_quota_in_use(H.quota), 3);
}

/* The server's 508s are counted by why relay/ could not open a socket. */
Test(quota, allocate_508_counted_by_reason)
{
    static const struct {
        int err;
        enum turn_alloc_fail reason;
    } cases[] = {
        {-EMFILE, TURN_ALLOC_FAIL_FDS},       {-ENFILE, TURN_ALLOC_FAIL_FDS},
        {-EADDRINUSE, TURN_ALLOC_FAIL_PORTS}, {-ENOENT, TURN_ALLOC_FAIL_OTHER},
        {-ENOMEM, TURN_ALLOC_FAIL_OTHER},
    };
    uint64_t want[TURN_ALLOC_FAIL_COUNT] = {0};
    char u[64];

    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        H.ops.fail = cases[i].err;
        cr_assert_eq(rest_allocate(i + 1, rest_user(u, sizeof(u), 3600, "x")), 508);
        want[cases[i].reason]++;
        for (unsigned r = 0; r < TURN_ALLOC_FAIL_COUNT; r++) {
            cr_assert_eq(stats()->allocate_failures[r], want[r], "case %u, reason %u", i, r);
        }
    }
    cr_assert_eq(turn_quota_in_use(H.quota), 0, "a 508 gives its quota back");
    H.ops.fail = 0;
    cr_assert_eq(rest_allocate(9, rest_user(u, sizeof(u), 3600, "x")), 0);
    cr_assert_eq(stats()->allocate_failures[TURN_ALLOC_FAIL_FDS], 2, "success counts nothing");
}
