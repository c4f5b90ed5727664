/* turnclient: TURN requests (RFC 8656) with long-term credentials (RFC 8489
 * 9.2.3) and FINGERPRINT, Send indications, and matching responses to their
 * transaction. */
#include "turnclient.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

int tcl_random(void *buf, size_t len)
{
    ssize_t n = getrandom(buf, len, 0);

    return n == (ssize_t)len ? 0 : -EIO;
}

static void tcl_build_credentials(struct stun_builder *b, const struct tcl_cred *c,
                                  const struct tcl_nonce *n)
{
    stun_build_attr(b, STUN_ATTR_USERNAME, c->user, strlen(c->user));
    stun_build_attr(b, STUN_ATTR_REALM, c->realm, strlen(c->realm));
    stun_build_attr(b, STUN_ATTR_NONCE, n->val, n->len);
    if (c->sha256) {
        /* RFC 8489 9.2.5: echo the server's list, name the one we use. */
        const uint8_t alg[4] = {0, STUN_PW_SHA256, 0, 0};

        stun_build_attr(b, STUN_ATTR_PASSWORD_ALGORITHMS, c->pw_algs, c->pw_algs_len);
        stun_build_attr(b, STUN_ATTR_PASSWORD_ALGORITHM, alg, sizeof(alg));
        stun_build_integrity(b, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, c->key, c->key_len);
    } else {
        stun_build_integrity(b, STUN_ATTR_MESSAGE_INTEGRITY, c->key, c->key_len);
    }
}

int tcl_req_build(const struct tcl_req *req, const struct tcl_cred *cred,
                  const struct tcl_nonce *nonce, uint8_t *buf, size_t cap)
{
    struct stun_builder b;

    stun_build_start(&b, buf, cap, req->method, STUN_REQUEST, req->tid);
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
    if (cred && cred->key_len > 0 && nonce && nonce->len > 0) {
        tcl_build_credentials(&b, cred, nonce);
    }
    stun_build_fingerprint(&b);
    return stun_build_finish(&b);
}

int tcl_send_build(uint8_t *buf, size_t cap, const union turn_addr *peer, const uint8_t *data,
                   size_t len)
{
    struct stun_builder b;
    uint8_t tid[STUN_TID_LEN];

    if (tcl_random(tid, sizeof(tid)) != 0) {
        return -EIO;
    }
    stun_build_start(&b, buf, cap, TURN_SEND, STUN_INDICATION, tid);
    stun_build_xaddr(&b, STUN_ATTR_XOR_PEER_ADDRESS, peer);
    stun_build_attr(&b, STUN_ATTR_DATA, data, len);
    return stun_build_finish(&b);
}

int tcl_resp_parse(struct stun_msg *m, const uint8_t *buf, size_t len, const uint8_t *tid,
                   int *code)
{
    const char *reason;
    size_t reason_len;

    if (stun_classify(buf, len, true) != STUN_PKT_STUN || stun_msg_decode(m, buf, len) != 0 ||
        memcmp(m->tid, tid, STUN_TID_LEN) != 0 ||
        (m->cls != STUN_SUCCESS && m->cls != STUN_ERROR)) {
        return -ENOMSG;
    }
    *code = 0;
    if (m->cls == STUN_SUCCESS) {
        return 0;
    }
    if (stun_msg_get_error(m, code, &reason, &reason_len) != 0) {
        *code = 0;
        return -EBADMSG;
    }
    return 0;
}
