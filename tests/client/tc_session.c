/* br-testclient: requests with long-term credentials (RFC 8489 9.2: the 401
 * challenge, stale-nonce 438 retry; the credentials themselves are
 * turnclient's) and the UDP Allocate (RFC 8656 7). */
#include "tc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void tc_auth_init(struct tc_auth *a, const struct tc_opts *o)
{
    memset(a, 0, sizeof(*a));
    a->opts = o;
    a->cred = o->cred;
}

/* Takes REALM, NONCE and PASSWORD-ALGORITHMS from a 401 or 438. */
static int tc_absorb_challenge(struct tc_auth *a, const struct stun_msg *m)
{
    const struct tc_opts *o = a->opts;
    int r = tcl_cred_challenge(&a->cred, &a->nonce, m);

    if (r == -ENOTSUP) {
        fprintf(stderr, "br-testclient: server does not offer PASSWORD-ALGORITHM SHA256\n");
        return -EPROTO;
    }
    if (r != 0) {
        fprintf(stderr, "br-testclient: challenge without REALM or NONCE\n");
        return r;
    }
    if (o->tamper_nonce) {
        /* Stays a valid nonce character, but is no longer the server's. */
        char *last = &a->nonce.val[a->nonce.len - 1];

        *last = *last == 'a' ? 'b' : 'a';
    }
    tc_log(o, "challenge: realm=%s nonce=%.*s algs=%zu bytes", a->cred.realm, a->nonce.len,
           a->nonce.val, a->cred.pw_algs_len);
    return 0;
}

/* An authenticated response must prove it knows the key (RFC 8489 9.2.5). */
static int tc_check_response(const struct tc_auth *a, const struct tc_resp *resp)
{
    int r = tcl_cred_verify(&a->cred, &resp->msg, resp->code);

    if (r == -EPROTO) {
        fprintf(stderr, "br-testclient: success response without MESSAGE-INTEGRITY\n");
    } else if (r != 0) {
        fprintf(stderr, "br-testclient: response MESSAGE-INTEGRITY%s does not verify\n",
                a->cred.sha256 ? "-SHA256" : "");
        r = -EPROTO;
    }
    return r;
}

int tc_request(struct tc_sock *s, struct tc_auth *a, const struct tcl_req *req,
               struct tc_resp *resp)
{
    bool stale_retried = false;

    for (int round = 0; round < 4; round++) {
        uint8_t out[TC_BUF], tid[STUN_TID_LEN];
        struct tcl_req fresh = *req;
        bool with_creds = a->nonce.len > 0;
        int len, r;

        fresh.tid = tid;
        if (tcl_random(tid, sizeof(tid)) != 0) {
            return -EIO;
        }
        len = tcl_req_build(&fresh, &a->cred, &a->nonce, out, sizeof(out));
        if (len < 0) {
            return len;
        }
        r = tc_transact(s, out, (size_t)len, resp);
        if (r == -EBADMSG) {
            fprintf(stderr, "br-testclient: error response without a valid ERROR-CODE\n");
        }
        if (r != 0) {
            return r;
        }
        tc_log(a->opts, "method 0x%03x -> %d", req->method, resp->code);
        if (tcl_cred_retry(resp->code, with_creds) &&
            (!with_creds || (!a->opts->tamper_nonce && !stale_retried))) {
            if (with_creds) {
                stale_retried = true;
            }
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

int tc_allocate(struct tc_sock *s, struct tc_auth *a, struct tc_resp *resp,
                union turn_addr *relayed)
{
    struct tcl_req req = {.method = TURN_ALLOCATE, .transport = a->opts->transport};
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
