/* Tests for turn/auth.c and turn/nonce.c: long-term credentials (RFC 8489
 * 9.2), TURN REST credentials, nonces, password algorithms. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "turn/auth.h"

#define REALM "example.org"
#define T0 1700000000u

static const char *const secrets[] = {"s3cret", "other"};
static const char *const users[] = {"alice:wonderland", "2000000000:static"};
static struct turn_auth *auth;
static union turn_addr client;
static char nonce[TURN_NONCE_MAX + 1];

static void setup(void)
{
    struct turn_auth_config cfg = {
        .realm = REALM,
        .secrets = secrets,
        .n_secrets = 2,
        .users = users,
        .n_users = 2,
        .nonce_lifetime = 600,
    };
    cr_assert_eq(turn_auth_new(&auth, &cfg), 0);
    cr_assert_eq(turn_addr_parse(&client, "198.51.100.7:40000", 0), 0);
    cr_assert_eq(turn_auth_nonce(auth, &client, T0, nonce), strlen(nonce));
}

static void teardown(void)
{
    turn_auth_free(auth);
    auth = NULL;
}

TestSuite(auth, .init = setup, .fini = teardown);

/* One request to check. Pointers left NULL leave the attribute out. */
struct req {
    const char *user;
    const char *password; /* for the key */
    const char *realm;
    const char *nonce;
    uint16_t alg;        /* 0: neither PASSWORD-ALGORITHM nor -ALGORITHMS */
    const uint8_t *algs; /* PASSWORD-ALGORITHMS value; NULL: ours */
    size_t algs_len;
    bool alg_only;  /* PASSWORD-ALGORITHM without the list */
    bool algs_only; /* the list without PASSWORD-ALGORITHM */
    uint16_t mi;    /* integrity attribute; 0: none */
    const uint8_t *userhash;
};

static const uint8_t our_algs[8] = {0, 1, 0, 0, 0, 2, 0, 0};

static struct req req_for(const char *user, const char *password)
{
    return (struct req){.user = user,
                        .password = password,
                        .realm = REALM,
                        .nonce = nonce,
                        .mi = STUN_ATTR_MESSAGE_INTEGRITY};
}

static uint8_t wire[1024];
static struct stun_msg msg;

static void add_algs(struct stun_builder *b, const struct req *r)
{
    if (r->alg == 0) {
        return;
    }
    if (!r->alg_only) {
        stun_build_attr(b, STUN_ATTR_PASSWORD_ALGORITHMS, r->algs ? r->algs : our_algs,
                        r->algs ? r->algs_len : sizeof(our_algs));
    }
    if (!r->algs_only) {
        uint8_t v[4] = {(uint8_t)(r->alg >> 8), (uint8_t)r->alg, 0, 0};
        stun_build_attr(b, STUN_ATTR_PASSWORD_ALGORITHM, v, sizeof(v));
    }
}

static void build(const struct req *r)
{
    static const uint8_t tid[STUN_TID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    struct stun_builder b;
    uint8_t key[TURN_AUTH_MAX_KEY];
    enum stun_pw_alg alg = r->alg == STUN_PW_SHA256 ? STUN_PW_SHA256 : STUN_PW_MD5;
    const char *user = r->user ? r->user : "alice";
    size_t key_len = turn_auth_key(alg, (const uint8_t *)user, strlen(user), REALM, r->password,
                                   strlen(r->password), key);
    int len;

    stun_build_start(&b, wire, sizeof(wire), TURN_ALLOCATE, STUN_REQUEST, tid);
    stun_build_u32(&b, STUN_ATTR_REQUESTED_TRANSPORT, 17u << 24);
    if (r->user) {
        stun_build_attr(&b, STUN_ATTR_USERNAME, r->user, strlen(r->user));
    }
    if (r->userhash) {
        stun_build_attr(&b, STUN_ATTR_USERHASH, r->userhash, 32);
    }
    if (r->realm) {
        stun_build_attr(&b, STUN_ATTR_REALM, r->realm, strlen(r->realm));
    }
    if (r->nonce) {
        stun_build_attr(&b, STUN_ATTR_NONCE, r->nonce, strlen(r->nonce));
    }
    add_algs(&b, r);
    if (r->mi) {
        stun_build_integrity(&b, r->mi, key, key_len);
    }
    stun_build_fingerprint(&b);
    len = stun_build_finish(&b);
    cr_assert_gt(len, 0);
    cr_assert_eq(stun_msg_decode(&msg, wire, (size_t)len), 0);
}

static int check_at(const struct req *r, const union turn_addr *from, uint64_t now,
                    struct turn_auth_result *res)
{
    build(r);
    turn_auth_check(auth, &msg, from, now, res);
    if (res->code != 0) {
        cr_expect_eq(res->key_len, 0);
    }
    return res->code;
}

static int check(const struct req *r)
{
    struct turn_auth_result res;
    return check_at(r, &client, T0, &res);
}

static struct req with(struct req r, uint16_t alg, uint16_t mi)
{
    r.alg = alg;
    r.mi = mi;
    return r;
}

Test(auth, static_user_all_algorithms)
{
    static const uint16_t algs[] = {0, STUN_PW_MD5, STUN_PW_SHA256};
    static const uint16_t mis[] = {STUN_ATTR_MESSAGE_INTEGRITY, STUN_ATTR_MESSAGE_INTEGRITY_SHA256};
    struct turn_auth_result res;

    for (size_t i = 0; i < 3; i++) {
        for (size_t j = 0; j < 2; j++) {
            struct req ok = with(req_for("alice", "wonderland"), algs[i], mis[j]);
            struct req bad = with(req_for("alice", "wonderlamb"), algs[i], mis[j]);
            size_t want_len = algs[i] == STUN_PW_SHA256 ? 32 : 16;

            cr_expect_eq(check_at(&ok, &client, T0, &res), 0, "alg %u mi %#x", algs[i], mis[j]);
            cr_expect_eq(res.key_len, want_len);
            cr_expect_eq(res.integrity_attr, mis[j]);
            cr_expect_eq(res.username_len, 5);
            cr_expect(res.username && memcmp(res.username, "alice", 5) == 0);
            cr_expect_eq(check(&bad), 401, "alg %u mi %#x", algs[i], mis[j]);
        }
    }
}

Test(auth, key_is_returned_for_the_response)
{
    struct req r =
        with(req_for("alice", "wonderland"), STUN_PW_SHA256, STUN_ATTR_MESSAGE_INTEGRITY_SHA256);
    struct turn_auth_result res;
    uint8_t key[TURN_AUTH_MAX_KEY];

    cr_assert_eq(check_at(&r, &client, T0, &res), 0);
    cr_assert_eq(
        turn_auth_key(STUN_PW_SHA256, (const uint8_t *)"alice", 5, REALM, "wonderland", 10, key),
        32);
    cr_expect_arr_eq(res.key, key, 32);
}

Test(auth, missing_integrity_is_401)
{
    struct req r = req_for("alice", "wonderland");
    r.mi = 0;
    cr_expect_eq(check(&r), 401);
    r.user = NULL;
    r.realm = NULL;
    r.nonce = NULL;
    cr_expect_eq(check(&r), 401);
}

Test(auth, integrity_without_username_realm_or_nonce_is_400)
{
    struct req r = req_for("alice", "wonderland");
    r.user = NULL;
    cr_expect_eq(check(&r), 400);
    r = req_for("alice", "wonderland");
    r.realm = NULL;
    cr_expect_eq(check(&r), 400);
    r = req_for("alice", "wonderland");
    r.nonce = NULL;
    cr_expect_eq(check(&r), 400);
}

Test(auth, unknown_user_or_wrong_realm_is_401)
{
    struct req r = req_for("bob", "wonderland");
    cr_expect_eq(check(&r), 401);
    r = req_for("alic", "wonderland");
    cr_expect_eq(check(&r), 401);
    r = req_for("alice", "wonderland");
    r.realm = "example.com";
    cr_expect_eq(check(&r), 401);
}

static struct req rest_req(const char *user, const char *secret, char password[29])
{
    turn_auth_rest_password(secret, user, password);
    return req_for(user, password);
}

Test(auth, rest_valid)
{
    char user[32], pw[29];
    snprintf(user, sizeof(user), "%u", T0 + 3600);
    struct req r = rest_req(user, "s3cret", pw);
    struct turn_auth_result res;

    cr_expect_eq(check_at(&r, &client, T0, &res), 0);
    cr_expect_eq(res.username_len, strlen(user));
    r = with(r, STUN_PW_SHA256, STUN_ATTR_MESSAGE_INTEGRITY_SHA256);
    cr_expect_eq(check(&r), 0);
    /* Expiry exactly now is still valid; one second later it is not. */
    turn_auth_nonce(auth, &client, T0 + 3600, nonce);
    cr_expect_eq(check_at(&r, &client, T0 + 3600, &res), 0);
    turn_auth_nonce(auth, &client, T0 + 3601, nonce);
    cr_expect_eq(check_at(&r, &client, T0 + 3601, &res), 401);
}

Test(auth, rest_expiry_colon_id)
{
    char user[64], pw[29];
    snprintf(user, sizeof(user), "%u:alice@example.org", T0 + 60);
    struct req r = rest_req(user, "other", pw);
    cr_expect_eq(check(&r), 0);
    snprintf(user, sizeof(user), "%u:", T0 + 60);
    r = rest_req(user, "other", pw);
    cr_expect_eq(check(&r), 0);
}

/* user-quota counts a REST credential by its id, a static user by name. */
Test(auth, quota_id_is_the_rest_id_or_the_static_name)
{
    char user[64], pw[29];
    struct turn_auth_result res;
    struct req r;

    snprintf(user, sizeof(user), "%u:alice:x", T0 + 60);
    r = rest_req(user, "s3cret", pw);
    cr_assert_eq(check_at(&r, &client, T0, &res), 0);
    cr_expect(res.rest);
    cr_expect_eq(res.quota_id_len, 7);
    cr_expect(memcmp(res.quota_id, "alice:x", 7) == 0, "everything after the first ':'");
    snprintf(user, sizeof(user), "%u", T0 + 60);
    r = rest_req(user, "s3cret", pw);
    cr_assert_eq(check_at(&r, &client, T0, &res), 0);
    cr_expect(res.rest);
    cr_expect_eq(res.quota_id_len, strlen(user), "no id: the whole username");
    r = req_for("alice", "wonderland");
    cr_assert_eq(check_at(&r, &client, T0, &res), 0);
    cr_expect(!res.rest);
    cr_expect_eq(res.quota_id_len, 5);
    cr_expect(memcmp(res.quota_id, "alice", 5) == 0);
}

Test(auth, rest_expired_is_401)
{
    char user[64], pw[29];
    snprintf(user, sizeof(user), "%u:alice", T0 - 1);
    struct req r = rest_req(user, "s3cret", pw);
    cr_expect_eq(check(&r), 401);
}

Test(auth, rest_wrong_secret_or_shape_is_401)
{
    char user[64], pw[29];
    snprintf(user, sizeof(user), "%u", T0 + 60);
    struct req r = rest_req(user, "not-the-secret", pw);
    cr_expect_eq(check(&r), 401);

    static const char *const not_rest[] = {"x1900000000", "1900000000x", "1900000000 ",
                                           "99999999999999999999999:a", ":1900000000"};
    for (size_t i = 0; i < sizeof(not_rest) / sizeof(not_rest[0]); i++) {
        r = rest_req(not_rest[i], "s3cret", pw);
        cr_expect_eq(check(&r), 401, "%s accepted", not_rest[i]);
    }
}

Test(auth, rest_secret_rotation)
{
    static const char *const both[] = {"old-secret", "new-secret"};
    static const char *const only_new[] = {"new-secret"};
    struct turn_auth_config cfg = {.realm = REALM, .secrets = both, .n_secrets = 2};
    char user[32], pw_old[29], pw_new[29];

    snprintf(user, sizeof(user), "%u:u1", T0 + 600);
    turn_auth_free(auth);
    cr_assert_eq(turn_auth_new(&auth, &cfg), 0);
    turn_auth_nonce(auth, &client, T0, nonce);
    struct req r_old = rest_req(user, "old-secret", pw_old);
    struct req r_new = rest_req(user, "new-secret", pw_new);
    cr_expect_eq(check(&r_old), 0);
    cr_expect_eq(check(&r_new), 0);

    turn_auth_free(auth);
    cfg.secrets = only_new;
    cfg.n_secrets = 1;
    cr_assert_eq(turn_auth_new(&auth, &cfg), 0);
    turn_auth_nonce(auth, &client, T0, nonce);
    cr_expect_eq(check(&r_old), 401);
    cr_expect_eq(check(&r_new), 0);
}

/* A static user's name is tried as that user only: one key, not one more
 * per secret. */
Test(auth, static_user_name_is_not_tried_as_rest)
{
    char pw[29];
    struct turn_auth_result res;
    struct req r = req_for("2000000000", "static");
    cr_expect_eq(check_at(&r, &client, T0, &res), 0);
    cr_expect_eq(res.tries, 1);
    r = rest_req("2000000000", "s3cret", pw);
    cr_expect_eq(check_at(&r, &client, T0, &res), 401);
    cr_expect_eq(res.tries, 1);
    r = req_for("2000000000", "neither");
    cr_expect_eq(check(&r), 401);
}

Test(auth, nonce_lifetime)
{
    struct req r = req_for("alice", "wonderland");
    struct turn_auth_result res;

    cr_expect_eq(check_at(&r, &client, T0 + 600, &res), 0);
    cr_expect_eq(check_at(&r, &client, T0 + 601, &res), 438);
    cr_expect_eq(check_at(&r, &client, T0 + 100000, &res), 438);
    /* A timestamp from the future (beyond a small skew) is refused too. */
    cr_expect_eq(check_at(&r, &client, T0 - 2, &res), 0);
    cr_expect_eq(check_at(&r, &client, T0 - 60, &res), 438);
}

Test(auth, nonce_bound_to_client_ip)
{
    struct req r = req_for("alice", "wonderland");
    struct turn_auth_result res;
    union turn_addr other;

    cr_assert_eq(turn_addr_parse(&other, "198.51.100.8:40000", 0), 0);
    cr_expect_eq(check_at(&r, &other, T0, &res), 438);
    cr_assert_eq(turn_addr_parse(&other, "[2001:db8::7]:40000", 0), 0);
    cr_expect_eq(check_at(&r, &other, T0, &res), 438);
    /* Same IP, another port (a NAT rebinding), or its IPv4-mapped form. */
    cr_assert_eq(turn_addr_parse(&other, "198.51.100.7:40001", 0), 0);
    cr_expect_eq(check_at(&r, &other, T0, &res), 0);
    cr_assert_eq(turn_addr_parse(&other, "[::ffff:198.51.100.7]:40000", 0), 0);
    cr_expect_eq(check_at(&r, &other, T0, &res), 0);
}

Test(auth, tampered_nonce_is_438)
{
    char bad[TURN_NONCE_MAX + 2];
    struct req r = req_for("alice", "wonderland");
    size_t n = strlen(nonce);

    r.nonce = bad;
    for (size_t i = 0; i < n; i++) {
        strcpy(bad, nonce);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        cr_expect_eq(check(&r), 438, "byte %zu changed", i);
    }
    strcpy(bad, nonce);
    bad[n - 1] = '\0';
    cr_expect_eq(check(&r), 438);
    strcpy(bad, nonce);
    strcat(bad, "A");
    cr_expect_eq(check(&r), 438);
    strcpy(bad, nonce);
    bad[20] = '+'; /* not base64url */
    cr_expect_eq(check(&r), 438);
    r.nonce = "obMatJos2gAAA";
    cr_expect_eq(check(&r), 438);
    r.nonce = "";
    cr_expect_eq(check(&r), 438);
}

Test(auth, nonce_from_another_instance_is_438)
{
    struct turn_auth *other;
    struct turn_auth_config cfg = {.realm = REALM, .users = users, .n_users = 1};
    char foreign[TURN_NONCE_MAX + 1];

    cr_assert_eq(turn_auth_new(&other, &cfg), 0);
    turn_auth_nonce(other, &client, T0, foreign);
    turn_auth_free(other);
    struct req r = req_for("alice", "wonderland");
    r.nonce = foreign;
    cr_expect_eq(check(&r), 438);
}

Test(auth, password_algorithms_mismatch_is_400)
{
    static const uint8_t sha_only[4] = {0, 2, 0, 0};
    static const uint8_t reversed[8] = {0, 2, 0, 0, 0, 1, 0, 0};
    struct req base =
        with(req_for("alice", "wonderland"), STUN_PW_SHA256, STUN_ATTR_MESSAGE_INTEGRITY_SHA256);
    struct req r = base;

    cr_expect_eq(check(&r), 0);
    r.algs = sha_only;
    r.algs_len = sizeof(sha_only);
    cr_expect_eq(check(&r), 400);
    r.algs = reversed;
    r.algs_len = sizeof(reversed);
    cr_expect_eq(check(&r), 400);
    r = base;
    r.alg_only = true;
    cr_expect_eq(check(&r), 400);
    r = base;
    r.algs_only = true;
    cr_expect_eq(check(&r), 400);
    r = base;
    r.alg = 3; /* not in the list; the key falls back to MD5 in build() */
    cr_expect_eq(check(&r), 400);
}

Test(auth, userhash_static_user)
{
    /* printf %s 'alice:example.org' | openssl dgst -sha256 */
    static const uint8_t alice_hash[32] = {
        0x43, 0x5b, 0x79, 0x33, 0x09, 0x6a, 0x30, 0x4d, 0x3c, 0x73, 0x4c,
        0xfb, 0x83, 0x3e, 0xc9, 0x07, 0x5b, 0xd4, 0x7a, 0xb1, 0xc0, 0x16,
        0x03, 0x21, 0xae, 0xd3, 0x1c, 0x06, 0xa8, 0xc7, 0x00, 0x9e,
    };
    static const uint8_t nobody[32] = {1};
    struct req r =
        with(req_for(NULL, "wonderland"), STUN_PW_SHA256, STUN_ATTR_MESSAGE_INTEGRITY_SHA256);
    struct turn_auth_result res;

    r.userhash = alice_hash;
    cr_expect_eq(check_at(&r, &client, T0, &res), 0);
    cr_expect_eq(res.username_len, 5);
    cr_expect(res.username && memcmp(res.username, "alice", 5) == 0);
    r.password = "wrong";
    cr_expect_eq(check(&r), 401);
    r.userhash = nobody;
    cr_expect_eq(check(&r), 401);
}

Test(auth, challenge_attributes)
{
    static const uint8_t tid[STUN_TID_LEN] = {0};
    uint8_t buf[256];
    struct stun_builder b;
    const struct stun_attr *a;
    int len;

    stun_build_start(&b, buf, sizeof(buf), TURN_ALLOCATE, STUN_ERROR, tid);
    stun_build_error(&b, 401);
    turn_auth_build_challenge(auth, &b, &client, T0);
    len = stun_build_finish(&b);
    cr_assert_gt(len, 0);
    cr_assert_eq(stun_msg_decode(&msg, buf, (size_t)len), 0);

    a = stun_msg_find(&msg, STUN_ATTR_REALM);
    cr_assert(a);
    cr_expect_eq(a->len, strlen(REALM));
    cr_expect(memcmp(stun_attr_value(&msg, a), REALM, a->len) == 0);

    a = stun_msg_find(&msg, STUN_ATTR_NONCE);
    cr_assert(a);
    cr_expect_leq(a->len, TURN_NONCE_MAX);
    cr_expect(a->len > 13 && memcmp(stun_attr_value(&msg, a), "obMatJos2gAAA", 13) == 0);
    char got[TURN_NONCE_MAX + 1];
    memcpy(got, stun_attr_value(&msg, a), a->len);
    got[a->len] = '\0';

    a = stun_msg_find(&msg, STUN_ATTR_PASSWORD_ALGORITHMS);
    cr_assert(a);
    cr_expect_eq(a->len, 8);
    cr_expect(memcmp(stun_attr_value(&msg, a), our_algs, 8) == 0);

    /* The nonce it carries is accepted. */
    struct req r = req_for("alice", "wonderland");
    r.nonce = got;
    cr_expect_eq(check(&r), 0);
}

Test(auth, nonce_format)
{
    char n[TURN_NONCE_MAX + 1];
    size_t len = turn_auth_nonce(auth, &client, T0, n);

    cr_expect_eq(len, strlen(n));
    cr_expect_eq(len, 29, "cookie 13 + base64url of a 4-byte time and an 8-byte MAC");
    cr_expect_leq(len, TURN_NONCE_MAX);
    cr_expect(strncmp(n, "obMatJos2gAAA", 13) == 0);
    cr_expect_eq(strspn(n + 13, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                 len - 13);
}

/* Bounded work: one key per secret for a REST username, one for a static
 * user, none for a bad nonce, an expired or unknown username. */
Test(auth, at_most_one_key_per_secret)
{
    char user[64], pw[29];
    struct turn_auth_result res;
    struct req r;

    snprintf(user, sizeof(user), "%u:bob", T0 + 60);
    r = rest_req(user, "s3cret", pw);
    cr_expect_eq(check_at(&r, &client, T0, &res), 0);
    cr_expect_eq(res.tries, 1, "the first secret matched");
    r = rest_req(user, "other", pw);
    cr_expect_eq(check_at(&r, &client, T0, &res), 0);
    cr_expect_eq(res.tries, 2);
    r = with(rest_req(user, "wrong", pw), STUN_PW_SHA256, STUN_ATTR_MESSAGE_INTEGRITY_SHA256);
    cr_expect_eq(check_at(&r, &client, T0, &res), 401);
    cr_expect_eq(res.tries, 2, "two secrets: two keys, whatever the algorithm");
    r = req_for("alice", "wrong");
    cr_expect_eq(check_at(&r, &client, T0, &res), 401);
    cr_expect_eq(res.tries, 1);
    r = req_for("nobody", "x");
    cr_expect_eq(check_at(&r, &client, T0, &res), 401);
    cr_expect_eq(res.tries, 0);
    snprintf(user, sizeof(user), "%u:bob", T0 - 1);
    r = rest_req(user, "s3cret", pw);
    cr_expect_eq(check_at(&r, &client, T0, &res), 401);
    cr_expect_eq(res.tries, 0, "expired: no key derived");
    r = req_for("alice", "wonderland");
    r.nonce = "obMatJos2gAAAAAAAAAAAAAAAAAAAA";
    cr_expect_eq(check_at(&r, &client, T0, &res), 438);
    cr_expect_eq(res.tries, 0, "a forged nonce costs one HMAC, no key");
}

Test(auth, rest_password_known_answer)
{
    char pw[29];
    /* printf %s 1700000000:alice | openssl dgst -sha1 -hmac s3cret -binary | base64 */
    turn_auth_rest_password("s3cret", "1700000000:alice", pw);
    cr_expect_str_eq(pw, "TtElzSjT0GdnTQ9xdcRNxx96yQs=");
}

Test(auth, long_term_key_known_answers)
{
    uint8_t key[TURN_AUTH_MAX_KEY];
    const uint8_t *user = (const uint8_t *)"alice";
    /* printf %s 'alice:example.org:wonderland' | openssl dgst -md5 */
    static const uint8_t md5[16] = {0x72, 0xf8, 0x6f, 0x20, 0x53, 0x70, 0x3f, 0xaa,
                                    0x0f, 0x52, 0x1c, 0xe7, 0x1c, 0xfe, 0x6f, 0x59};
    /* printf %s 'alice:example.org:wonderland' | openssl dgst -sha256 */
    static const uint8_t sha[32] = {0xf0, 0xc3, 0xae, 0x80, 0x8c, 0xef, 0x89, 0x70,
                                    0x43, 0xf7, 0x9d, 0xe4, 0x95, 0x49, 0x77, 0x6f,
                                    0x1f, 0x58, 0xcb, 0x7c, 0x53, 0x64, 0xe0, 0x3a,
                                    0xb4, 0x0a, 0xba, 0xc6, 0x20, 0x45, 0x98, 0x48};

    cr_assert_eq(turn_auth_key(STUN_PW_MD5, user, 5, REALM, "wonderland", 10, key), 16);
    cr_expect_arr_eq(key, md5, 16);
    cr_assert_eq(turn_auth_key(STUN_PW_SHA256, user, 5, REALM, "wonderland", 10, key), 32);
    cr_expect_arr_eq(key, sha, 32);
    cr_expect_eq(turn_auth_key((enum stun_pw_alg)7, user, 5, REALM, "x", 1, key), 0);
}

Test(auth, new_rejects_bad_config)
{
    static const char *const no_colon[] = {"alice"};
    static const char *const empty_name[] = {":pw"};
    static const char *const empty_secret[] = {""};
    char long_realm[TURN_REALM_MAX + 2];
    struct turn_auth *a = (struct turn_auth *)1;
    struct turn_auth_config cfg = {.realm = REALM};

    memset(long_realm, 'r', sizeof(long_realm) - 1);
    long_realm[sizeof(long_realm) - 1] = '\0';
    cfg.users = no_colon;
    cfg.n_users = 1;
    cr_expect_eq(turn_auth_new(&a, &cfg), -EINVAL);
    cr_expect_null(a);
    cfg.users = empty_name;
    cr_expect_eq(turn_auth_new(&a, &cfg), -EINVAL);
    cfg.n_users = 0;
    cfg.secrets = empty_secret;
    cfg.n_secrets = 1;
    cr_expect_eq(turn_auth_new(&a, &cfg), -EINVAL);
    cfg.n_secrets = 0;
    cfg.realm = "";
    cr_expect_eq(turn_auth_new(&a, &cfg), -EINVAL);
    cfg.realm = NULL;
    cr_expect_eq(turn_auth_new(&a, &cfg), -EINVAL);
    cfg.realm = long_realm;
    cr_expect_eq(turn_auth_new(&a, &cfg), -EINVAL);
    cfg.realm = REALM;
    cr_expect_eq(turn_auth_new(&a, &cfg), 0);
    cr_expect_str_eq(turn_auth_realm(a), REALM);
    turn_auth_free(a);
    turn_auth_free(NULL);
}

Test(auth, zero_nonce_lifetime_means_default)
{
    struct turn_auth_config cfg = {.realm = REALM, .users = users, .n_users = 1};
    struct turn_auth_result res;

    turn_auth_free(auth);
    cr_assert_eq(turn_auth_new(&auth, &cfg), 0);
    turn_auth_nonce(auth, &client, T0, nonce);
    struct req r = req_for("alice", "wonderland");
    cr_expect_eq(check_at(&r, &client, T0 + 600, &res), 0);
    cr_expect_eq(check_at(&r, &client, T0 + 601, &res), 438);
}
