/* turnclient (tests/lib): requests built with its credentials pass turn/'s
 * own check (turn_auth_check) after a challenge from turn/ (MD5, SHA-256,
 * TURN REST); the retry rule; response matching and verification. */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tests/lib/turnclient.h"

#define T0 1700000000u

static const char *const secrets[] = {"s3cret"};
static const char *const users[] = {"alice:wonderland"};
static const uint8_t tid[STUN_TID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
static struct turn_auth *auth;
static union turn_addr client;

static void setup(void)
{
    struct turn_auth_config cfg = {
        .realm = "example.org", .secrets = secrets, .n_secrets = 1, .users = users, .n_users = 1};

    cr_assert_eq(turn_auth_new(&auth, &cfg), 0);
    cr_assert_eq(turn_addr_parse(&client, "198.51.100.7:40000", 0), 0);
}

static void teardown(void)
{
    turn_auth_free(auth);
    auth = NULL;
}

TestSuite(turnclient, .init = setup, .fini = teardown);

/* The server's 401 to an Allocate, decoded into m (borrows buf). */
static void challenge(uint8_t *buf, size_t cap, struct stun_msg *m)
{
    struct stun_builder b;
    int len;

    stun_build_start(&b, buf, cap, TURN_ALLOCATE, STUN_ERROR, tid);
    stun_build_error(&b, 401);
    turn_auth_build_challenge(auth, &b, &client, T0);
    len = stun_build_finish(&b);
    cr_assert_gt(len, 0);
    cr_assert_eq(stun_msg_decode(m, buf, (size_t)len), 0);
}

/* Answers the challenge with cred and checks the request as the server does. */
static struct turn_auth_result answer(struct tcl_cred *cred)
{
    uint8_t cbuf[512], rbuf[512];
    struct stun_msg ch, req;
    struct tcl_nonce nonce = {0};
    struct tcl_req r = {.tid = tid, .method = TURN_ALLOCATE, .transport = 17};
    struct turn_auth_result res;
    int len;

    challenge(cbuf, sizeof(cbuf), &ch);
    cr_assert_eq(tcl_cred_challenge(cred, &nonce, &ch), 0);
    cr_assert_gt(nonce.len, 0);
    cr_assert_str_eq(cred->realm, "example.org");
    len = tcl_req_build(&r, cred, &nonce, rbuf, sizeof(rbuf));
    cr_assert_gt(len, 0);
    cr_assert_eq(stun_msg_decode(&req, rbuf, (size_t)len), 0);
    cr_assert_not_null(stun_msg_find(&req, STUN_ATTR_FINGERPRINT));
    turn_auth_check(auth, &req, &client, T0 + 1, &res);
    return res;
}

Test(turnclient, static_md5_is_accepted)
{
    struct tcl_cred cred;
    struct turn_auth_result res;

    cr_assert_eq(tcl_cred_static(&cred, "alice", "wonderland", false), 0);
    res = answer(&cred);
    cr_assert_eq(res.code, 0);
    cr_assert_eq(res.integrity_attr, STUN_ATTR_MESSAGE_INTEGRITY);
    tcl_cred_clear(&cred);
    cr_assert_eq(cred.key_len, 0);
}

Test(turnclient, static_sha256_is_accepted)
{
    struct tcl_cred cred;
    struct turn_auth_result res;

    cr_assert_eq(tcl_cred_static(&cred, "alice", "wonderland", true), 0);
    res = answer(&cred);
    cr_assert_eq(res.code, 0);
    cr_assert_eq(res.integrity_attr, STUN_ATTR_MESSAGE_INTEGRITY_SHA256);
}

Test(turnclient, wrong_password_is_refused)
{
    struct tcl_cred cred;

    cr_assert_eq(tcl_cred_static(&cred, "alice", "looking-glass", false), 0);
    cr_assert_eq(answer(&cred).code, 401);
}

Test(turnclient, rest_credentials_are_accepted_until_expiry)
{
    struct tcl_cred cred;
    char pw[29];

    cr_assert_eq(tcl_cred_rest(&cred, "s3cret", "bench", T0 + 3600, false), 0);
    cr_assert_str_eq(cred.user, "1700003600:bench");
    turn_auth_rest_password("s3cret", cred.user, pw);
    cr_assert_str_eq(cred.password, pw);
    cr_assert_eq(answer(&cred).code, 0);
    cr_assert_eq(tcl_cred_rest(&cred, "s3cret", "bench", T0 - 1, false), 0);
    cr_assert_eq(answer(&cred).code, 401);
    cr_assert_eq(tcl_cred_rest(&cred, "other", "bench", T0 + 3600, false), 0);
    cr_assert_eq(answer(&cred).code, 401);
}

Test(turnclient, strings_that_do_not_fit_are_refused)
{
    struct tcl_cred cred;
    char big[TCL_STR + 1];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cr_assert_eq(tcl_cred_static(&cred, big, "pw", false), -EINVAL);
    cr_assert_eq(tcl_cred_static(&cred, "u", big, false), -EINVAL);
    /* "1:" and the id: 255 characters fit, 256 do not */
    cr_assert_eq(tcl_cred_rest(&cred, "s", big + 3, 1, false), 0);
    cr_assert_eq(tcl_cred_rest(&cred, "s", big + 2, 1, false), -EINVAL);
}

Test(turnclient, unusable_challenges)
{
    uint8_t buf[256];
    struct stun_builder b;
    struct stun_msg m;
    struct tcl_cred cred;
    struct tcl_nonce nonce = {0};
    const uint8_t md5_only[4] = {0, 1, 0, 0};
    int len;

    tcl_cred_static(&cred, "alice", "wonderland", false);
    /* NONCE but no REALM, and no realm known yet */
    stun_build_start(&b, buf, sizeof(buf), TURN_ALLOCATE, STUN_ERROR, tid);
    stun_build_error(&b, 401);
    stun_build_attr(&b, STUN_ATTR_NONCE, "abc", 3);
    len = stun_build_finish(&b);
    cr_assert_eq(stun_msg_decode(&m, buf, (size_t)len), 0);
    cr_assert_eq(tcl_cred_challenge(&cred, &nonce, &m), -EPROTO);
    /* REALM but no NONCE */
    stun_build_start(&b, buf, sizeof(buf), TURN_ALLOCATE, STUN_ERROR, tid);
    stun_build_error(&b, 401);
    stun_build_attr(&b, STUN_ATTR_REALM, "r", 1);
    len = stun_build_finish(&b);
    cr_assert_eq(stun_msg_decode(&m, buf, (size_t)len), 0);
    cr_assert_eq(tcl_cred_challenge(&cred, &nonce, &m), -EPROTO);
    /* SHA-256 wanted, MD5 offered */
    tcl_cred_static(&cred, "alice", "wonderland", true);
    stun_build_start(&b, buf, sizeof(buf), TURN_ALLOCATE, STUN_ERROR, tid);
    stun_build_error(&b, 401);
    stun_build_attr(&b, STUN_ATTR_REALM, "r", 1);
    stun_build_attr(&b, STUN_ATTR_NONCE, "abc", 3);
    stun_build_attr(&b, STUN_ATTR_PASSWORD_ALGORITHMS, md5_only, sizeof(md5_only));
    len = stun_build_finish(&b);
    cr_assert_eq(stun_msg_decode(&m, buf, (size_t)len), 0);
    cr_assert_eq(tcl_cred_challenge(&cred, &nonce, &m), -ENOTSUP);
}

Test(turnclient, without_a_nonce_no_credentials_go_out)
{
    uint8_t buf[256];
    struct stun_msg m;
    struct tcl_cred cred;
    struct tcl_nonce none = {0};
    struct tcl_req r = {.tid = tid, .method = TURN_REFRESH, .transport = -1, .has_lifetime = true};
    int len;

    tcl_cred_static(&cred, "alice", "wonderland", false);
    len = tcl_req_build(&r, &cred, &none, buf, sizeof(buf));
    cr_assert_eq(stun_msg_decode(&m, buf, (size_t)len), 0);
    cr_assert_null(stun_msg_find(&m, STUN_ATTR_USERNAME));
    cr_assert_null(stun_msg_find(&m, STUN_ATTR_MESSAGE_INTEGRITY));
    cr_assert_not_null(stun_msg_find(&m, STUN_ATTR_LIFETIME));
    cr_assert_eq(tcl_req_build(&r, NULL, NULL, buf, 24), -ENOBUFS);
}

Test(turnclient, retry_rule)
{
    cr_assert(tcl_cred_retry(401, false));
    cr_assert_not(tcl_cred_retry(401, true)); /* wrong password: final */
    cr_assert(tcl_cred_retry(438, true));
    cr_assert_not(tcl_cred_retry(438, false));
    cr_assert_not(tcl_cred_retry(0, false));
    cr_assert_not(tcl_cred_retry(437, true));
}

static int response(uint8_t *buf, size_t cap, uint8_t cls, int code, const uint8_t *key)
{
    struct stun_builder b;

    stun_build_start(&b, buf, cap, TURN_ALLOCATE, cls, tid);
    if (code) {
        stun_build_error(&b, code);
    }
    if (key) {
        stun_build_integrity(&b, STUN_ATTR_MESSAGE_INTEGRITY, key, 16);
    }
    stun_build_fingerprint(&b);
    return stun_build_finish(&b);
}

Test(turnclient, responses_are_matched_to_their_transaction)
{
    uint8_t buf[256], other[STUN_TID_LEN] = {0};
    const uint8_t chan[8] = {0x40, 0, 0, 4, 1, 2, 3, 4};
    struct stun_msg m;
    int code = -1, len;

    len = response(buf, sizeof(buf), STUN_SUCCESS, 0, NULL);
    cr_assert_eq(tcl_resp_parse(&m, buf, (size_t)len, tid, &code), 0);
    cr_assert_eq(code, 0);
    cr_assert_eq(tcl_resp_parse(&m, buf, (size_t)len, other, &code), -ENOMSG);
    len = response(buf, sizeof(buf), STUN_ERROR, 486, NULL);
    cr_assert_eq(tcl_resp_parse(&m, buf, (size_t)len, tid, &code), 0);
    cr_assert_eq(code, 486);
    len = response(buf, sizeof(buf), STUN_ERROR, 0, NULL);
    cr_assert_eq(tcl_resp_parse(&m, buf, (size_t)len, tid, &code), -EBADMSG);
    len = response(buf, sizeof(buf), STUN_INDICATION, 0, NULL);
    cr_assert_eq(tcl_resp_parse(&m, buf, (size_t)len, tid, &code), -ENOMSG);
    cr_assert_eq(tcl_resp_parse(&m, chan, sizeof(chan), tid, &code), -ENOMSG);
    cr_assert_eq(tcl_resp_parse(&m, buf, 10, tid, &code), -ENOMSG);
}

Test(turnclient, authenticated_responses_must_verify)
{
    uint8_t buf[256];
    struct stun_msg m;
    struct tcl_cred cred;
    uint8_t wrong[16];
    int len;

    tcl_cred_static(&cred, "alice", "wonderland", false);
    cred.key_len = turn_auth_key(STUN_PW_MD5, (const uint8_t *)"alice", 5, "example.org",
                                 "wonderland", 10, cred.key);
    memcpy(wrong, cred.key, sizeof(wrong));
    wrong[0] ^= 1;
    len = response(buf, sizeof(buf), STUN_SUCCESS, 0, cred.key);
    cr_assert_eq(stun_msg_decode(&m, buf, (size_t)len), 0);
    cr_assert_eq(tcl_cred_verify(&cred, &m, 0), 0);
    len = response(buf, sizeof(buf), STUN_SUCCESS, 0, wrong);
    cr_assert_eq(stun_msg_decode(&m, buf, (size_t)len), 0);
    cr_assert_eq(tcl_cred_verify(&cred, &m, 0), -EACCES);
    len = response(buf, sizeof(buf), STUN_SUCCESS, 0, NULL);
    cr_assert_eq(stun_msg_decode(&m, buf, (size_t)len), 0);
    cr_assert_eq(tcl_cred_verify(&cred, &m, 0), -EPROTO);
    len = response(buf, sizeof(buf), STUN_ERROR, 401, NULL);
    cr_assert_eq(stun_msg_decode(&m, buf, (size_t)len), 0);
    cr_assert_eq(tcl_cred_verify(&cred, &m, 401), 0);
    len = response(buf, sizeof(buf), STUN_ERROR, 486, wrong);
    cr_assert_eq(stun_msg_decode(&m, buf, (size_t)len), 0);
    cr_assert_eq(tcl_cred_verify(&cred, &m, 486), -EACCES);
}
