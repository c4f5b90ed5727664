/* br-testclient: requests with long-term credentials (RFC 8489 9.2: the 401
 * challenge, REALM/NONCE, MD5 or SHA-256 keys, PASSWORD-ALGORITHMS echo,
 * stale-nonce 438 retry) and TURN message building (RFC 8656). */
#include "tc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void tc_auth_init(struct tc_auth *a, const struct tc_opts *o)
{
    memset(a, 0, sizeof(*a));
    a->opts = o;
    a->use_sha256 = o->sha256;
}

static void tc_copy_attr(const struct stun_msg *m, uint16_t type, char *out, size_t cap)
{
    const struct stun_attr *at = stun_msg_find(m, type);
    size_t n = 0;

    if (at) {
        n = at->len < cap - 1 ? at->len : cap - 1;
        memcpy(out, stun_attr_value(m, at), n);
    }
    out[n] = '\0';
}

/* Whether a PASSWORD-ALGORITHMS value lists alg (RFC 8489 14.11). */
static bool tc_algs_have(const uint8_t *v, size_t len, uint16_t alg)
{
    size_t i = 0;

    while (i + 4 <= len) {
        uint16_t a = (uint16_t)(v[i] << 8 | v[i + 1]);
        uint16_t plen = (uint16_t)(v[i + 2] << 8 | v[i + 3]);

        if (a == alg) {
            return true;
        }
        i += 4 + ((plen + 3u) & ~3u);
    }
    return false;
}

/* Takes REALM, NONCE and PASSWORD-ALGORITHMS from a 401 or 438 and derives
 * the key. Returns 0 or -EPROTO when the challenge is unusable. */
static int tc_absorb_challenge(struct tc_auth *a, const struct stun_msg *m)
{
    const struct tc_opts *o = a->opts;
    const struct stun_attr *algs = stun_msg_find(m, STUN_ATTR_PASSWORD_ALGORITHMS);
    size_t nlen;

    if (!stun_msg_find(m, STUN_ATTR_NONCE) ||
        (!a->challenged && !stun_msg_find(m, STUN_ATTR_REALM))) {
        fprintf(stderr, "br-testclient: challenge without REALM or NONCE\n");
        return -EPROTO;
    }
    if (stun_msg_find(m, STUN_ATTR_REALM)) {
        tc_copy_attr(m, STUN_ATTR_REALM, a->realm, sizeof(a->realm));
    }
    tc_copy_attr(m, STUN_ATTR_NONCE, a->nonce, sizeof(a->nonce));
    if (algs && algs->len <= sizeof(a->pw_algs)) {
        memcpy(a->pw_algs, stun_attr_value(m, algs), algs->len);
        a->pw_algs_len = algs->len;
    }
    if (a->use_sha256 && !tc_algs_have(a->pw_algs, a->pw_algs_len, STUN_PW_SHA256)) {
        fprintf(stderr, "br-testclient: server does not offer PASSWORD-ALGORITHM SHA256\n");
        return -EPROTO;
    }
    nlen = strlen(a->nonce);
    if (o->tamper_nonce && nlen > 0) {
        /* Stays a valid nonce character, but is no longer the server's. */
        a->nonce[nlen - 1] = a->nonce[nlen - 1] == 'a' ? 'b' : 'a';
    }
    a->key_len =
        turn_auth_key(a->use_sha256 ? STUN_PW_SHA256 : STUN_PW_MD5, (const uint8_t *)o->user,
                      strlen(o->user), a->realm, o->password, strlen(o->password), a->key);
    a->challenged = true;
    tc_log(o, "challenge: realm=%s nonce=%s algs=%zu bytes", a->realm, a->nonce, a->pw_algs_len);
    return 0;
}

static void tc_build_credentials(struct stun_builder *b, const struct tc_auth *a)
{
    const struct tc_opts *o = a->opts;

    stun_build_attr(b, STUN_ATTR_USERNAME, o->user, strlen(o->user));
    stun_build_attr(b, STUN_ATTR_REALM, a->realm, strlen(a->realm));
    stun_build_attr(b, STUN_ATTR_NONCE, a->nonce, strlen(a->nonce));
    if (a->use_sha256) {
        /* RFC 8489 9.2.3.2: echo the server's list, name the one we use. */
        const uint8_t alg[4] = {0, STUN_PW_SHA256, 0, 0};

        stun_build_attr(b, STUN_ATTR_PASSWORD_ALGORITHMS, a->pw_algs, a->pw_algs_len);
        stun_build_attr(b, STUN_ATTR_PASSWORD_ALGORITHM, alg, sizeof(alg));
        stun_build_integrity(b, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, a->key, a->key_len);
    } else {
        stun_build_integrity(b, STUN_ATTR_MESSAGE_INTEGRITY, a->key, a->key_len);
    }
}

static int tc_build_req(const struct tc_auth *a, const struct tc_req *req, uint8_t *buf, size_t cap)
{
    struct stun_builder b;
    uint8_t tid[STUN_TID_LEN];

    if (tc_random(tid, sizeof(tid)) != 0) {
        return -EIO;
    }
    stun_build_start(&b, buf, cap, req->method, STUN_REQUEST, tid);
    if (req->channel) {
        stun_build_channel(&b, req->channel);
    }
    if (req->peer) {
        stun_build_xaddr(&b, STUN_ATTR_XOR_PEER_ADDRESS, req->peer);
    }
    if (req->has_lifetime) {
        stun_build_u32(&b, STUN_ATTR_LIFETIME, req->lifetime);
    }
    if (req->transport >= 0) {
        const uint8_t v[4] = {(uint8_t)req->transport, 0, 0, 0};

        stun_build_attr(&b, STUN_ATTR_REQUESTED_TRANSPORT, v, sizeof(v));
    }
    if (a->challenged) {
        tc_build_credentials(&b, a);
    }
    stun_build_fingerprint(&b);
    return stun_build_finish(&b);
}

/* An authenticated response must prove it knows the key (RFC 8489 9.2.5). */
static int tc_check_response(const struct tc_auth *a, const struct tc_resp *resp)
{
    const struct stun_msg *m = &resp->msg;
    uint16_t type = 0;

    if (resp->code == 400 || resp->code == 401 || resp->code == 438) {
        return 0; /* the server could not or did not accept our key */
    }
    if (stun_msg_find(m, STUN_ATTR_MESSAGE_INTEGRITY_SHA256)) {
        type = STUN_ATTR_MESSAGE_INTEGRITY_SHA256;
    } else if (stun_msg_find(m, STUN_ATTR_MESSAGE_INTEGRITY)) {
        type = STUN_ATTR_MESSAGE_INTEGRITY;
    }
    if (type == 0) {
        if (resp->code == 0) {
            fprintf(stderr, "br-testclient: success response without MESSAGE-INTEGRITY\n");
            return -EPROTO;
        }
        return 0;
    }
    if (stun_msg_check_integrity(m, type, a->key, a->key_len) != 0) {
        fprintf(stderr, "br-testclient: response %s does not verify\n",
                type == STUN_ATTR_MESSAGE_INTEGRITY ? "MESSAGE-INTEGRITY"
                                                    : "MESSAGE-INTEGRITY-SHA256");
        return -EPROTO;
    }
    return 0;
}

static int tc_response_code(struct tc_resp *resp)
{
    const char *reason;
    size_t reason_len;

    resp->code = 0;
    if (resp->msg.cls == STUN_SUCCESS) {
        return 0;
    }
    if (stun_msg_get_error(&resp->msg, &resp->code, &reason, &reason_len) != 0) {
        fprintf(stderr, "br-testclient: error response without a valid ERROR-CODE\n");
        return -EBADMSG;
    }
    return 0;
}

int tc_request(struct tc_sock *s, struct tc_auth *a, const struct tc_req *req, struct tc_resp *resp)
{
    bool stale_retried = false;

    for (int round = 0; round < 4; round++) {
        uint8_t out[TC_BUF];
        bool with_creds = a->challenged;
        int len = tc_build_req(a, req, out, sizeof(out));
        int r;

        if (len < 0) {
            return len;
        }
        r = tc_transact(s, out, (size_t)len, resp);
        if (r == 0) {
            r = tc_response_code(resp);
        }
        if (r != 0) {
            return r;
        }
        tc_log(a->opts, "method 0x%03x -> %d", req->method, resp->code);
        if (resp->code == 401 && !with_creds) {
            r = tc_absorb_challenge(a, &resp->msg);
            if (r != 0) {
                return r;
            }
            continue;
        }
        if (resp->code == 438 && with_creds && !a->opts->tamper_nonce && !stale_retried) {
            stale_retried = true;
            r = tc_absorb_challenge(a, &resp->msg);
            if (r != 0) {
                return r;
            }
            continue;
        }
        return with_creds ? tc_check_response(a, resp) : 0;
    }
    return -EPROTO;
}

int tc_build_send(uint8_t *buf, size_t cap, const union turn_addr *peer, const uint8_t *data,
                  size_t len)
{
    struct stun_builder b;
    uint8_t tid[STUN_TID_LEN];

    if (tc_random(tid, sizeof(tid)) != 0) {
        return -EIO;
    }
    stun_build_start(&b, buf, cap, TURN_SEND, STUN_INDICATION, tid);
    stun_build_xaddr(&b, STUN_ATTR_XOR_PEER_ADDRESS, peer);
    stun_build_attr(&b, STUN_ATTR_DATA, data, len);
    return stun_build_finish(&b);
}

int tc_allocate(struct tc_sock *s, struct tc_auth *a, struct tc_resp *resp,
                union turn_addr *relayed)
{
    struct tc_req req = {.method = TURN_ALLOCATE, .transport = a->opts->transport};
    int r = tc_request(s, a, &req, resp);

    if (r != 0 || resp->code != 0) {
        return r;
    }
    if (stun_msg_get_xaddr(&resp->msg, STUN_ATTR_XOR_RELAYED_ADDRESS, relayed) != 0) {
        fprintf(stderr, "br-testclient: Allocate success without XOR-RELAYED-ADDRESS\n");
        return -EBADMSG;
    }
    return 0;
}
