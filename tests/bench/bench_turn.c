/* blindrelay-bench: control transactions of one client. Long-term
 * credentials (RFC 8489 9.2, built and answered by turnclient): the first
 * request goes without, the 401 brings REALM and NONCE; a 438 (stale nonce)
 * is answered with the new nonce. RFC 8656: Allocate, Refresh,
 * CreatePermission, ChannelBind. UDP retransmits (RFC 8489 6.2.1). */
#include "bench_client.h"

#include <errno.h>

#define BC_RTO_NS 200000000u
#define BC_MAX_SENDS 6
#define BC_TCP_TIMEOUT_NS 8000000000u
#define BC_REBIND_NS 240000000000u /* channels live 600 s, permissions 300 s */

static const uint16_t bc_method[] = {
    [BC_OP_ALLOCATE] = TURN_ALLOCATE, [BC_OP_PERMISSION] = TURN_CREATE_PERMISSION,
    [BC_OP_BIND] = TURN_CHANNEL_BIND, [BC_OP_REFRESH] = TURN_REFRESH,
    [BC_OP_RELEASE] = TURN_REFRESH,
};

/* The request for c->op with c->tid (the same bytes on retransmit). */
static struct tcl_req bc_req(const struct bc_client *c)
{
    struct tcl_req r = {.tid = c->tid, .method = bc_method[c->op], .transport = -1};

    switch (c->op) {
    case BC_OP_ALLOCATE:
        r.transport = 17;
        r.has_lifetime = c->ctx->o->lifetime != 0;
        r.lifetime = c->ctx->o->lifetime;
        break;
    case BC_OP_BIND:
        r.channel = BC_CHANNEL;
        /* fall through */
    case BC_OP_PERMISSION:
        r.peer = &c->peer;
        break;
    case BC_OP_REFRESH:
    case BC_OP_RELEASE:
        r.has_lifetime = true;
        r.lifetime = c->op == BC_OP_REFRESH ? c->lifetime : 0;
        break;
    default:
        break;
    }
    return r;
}

static int bc_build(const struct bc_client *c, uint8_t *buf, size_t cap)
{
    struct tcl_req req;

    if (c->op == BC_OP_REGISTER) {
        buf[0] = 1;
        buf[1] = 0;
        buf[2] = (uint8_t)(c->id >> 8);
        buf[3] = (uint8_t)c->id;
        return 4;
    }
    req = bc_req(c);
    return tcl_req_build(&req, &c->ctx->cred, &c->nonce, buf, cap);
}

static int bc_send_req(struct bc_client *c, uint64_t now)
{
    uint8_t buf[512];
    int len = bc_build(c, buf, sizeof(buf));

    if (len < 0) {
        return len;
    }
    c->retx_at = now + ((uint64_t)BC_RTO_NS << (c->tries > 0 ? c->tries - 1 : 0));
    c->ctx->st.requests++;
    return bc_client_send(c, buf, (size_t)len);
}

static int bc_fresh_tid(struct bc_client *c)
{
    c->tries = 1;
    return tcl_random(c->tid, sizeof(c->tid));
}

int bc_op_start(struct bc_client *c, enum bc_op op, uint64_t now)
{
    int err;

    c->op = op;
    c->stale = 0;
    c->op_start = now;
    err = bc_fresh_tid(c);
    if (err == 0) {
        err = bc_send_req(c, now);
    }
    if (err) {
        c->op = BC_OP_NONE;
        c->result = err;
    }
    return err;
}

static void bc_finish(struct bc_client *c, int result)
{
    c->op_done = c->op;
    c->op = BC_OP_NONE;
    c->result = result;
    if (c->ctx->h.op_done_cb) {
        c->ctx->h.op_done_cb(c, c->ctx->h.arg);
    }
}

static void bc_success(struct bc_client *c, const struct stun_msg *m, uint64_t now)
{
    uint32_t lt;

    if (stun_msg_get_u32(m, STUN_ATTR_LIFETIME, &lt) == 0) {
        c->lifetime = lt;
    }
    switch (c->op) {
    case BC_OP_ALLOCATE:
        if (stun_msg_get_xaddr(m, STUN_ATTR_XOR_RELAYED_ADDRESS, &c->relayed) != 0) {
            bc_finish(c, -EBADMSG);
            return;
        }
        c->allocated = true;
        /* fall through */
    case BC_OP_REFRESH:
        c->refresh_at = now + (uint64_t)(c->lifetime ? c->lifetime : 600) * 500000000u;
        break;
    case BC_OP_BIND:
        c->rebind_at = now + BC_REBIND_NS;
        break;
    case BC_OP_RELEASE:
        c->allocated = false;
        break;
    default:
        break;
    }
    bc_finish(c, 0);
}

/* An error response (code 0: without a valid ERROR-CODE): retry the
 * credential dance, or end the op. */
static void bc_failure(struct bc_client *c, const struct stun_msg *m, int code, uint64_t now)
{
    bool had_creds = c->nonce.len > 0 && c->ctx->cred.key_len > 0;

    if (tcl_cred_retry(code, had_creds) && (code != 438 || c->stale++ < 3)) {
        if (tcl_cred_challenge(&c->ctx->cred, &c->nonce, m) == 0 && bc_fresh_tid(c) == 0 &&
            bc_send_req(c, now) == 0) {
            return;
        }
    }
    if (c->op == BC_OP_RELEASE && code == 437) {
        c->allocated = false; /* already gone */
    }
    c->ctx->st.errors++;
    if (code > 0 && code < 700) {
        c->ctx->st.by_code[code]++;
    }
    bc_finish(c, code ? code : -EPROTO);
}

void bc_op_input(struct bc_client *c, const uint8_t *buf, size_t len, uint64_t now)
{
    struct stun_msg m;
    int code, r;

    if (c->op == BC_OP_REGISTER) {
        if (len >= 4 && buf[0] == 1 && (unsigned)(buf[2] << 8 | buf[3]) == (c->id & 0xffff)) {
            bc_finish(c, 0);
        }
        return;
    }
    r = c->op == BC_OP_NONE ? -ENOMSG : tcl_resp_parse(&m, buf, len, c->tid, &code);
    if (r == -ENOMSG || m.method != bc_method[c->op]) {
        c->ctx->st.stray++;
        return;
    }
    if (r == 0 && code == 0) {
        bc_success(c, &m, now);
    } else {
        bc_failure(c, &m, code, now);
    }
}

void bc_op_tick(struct bc_client *c, uint64_t now)
{
    if (c->op == BC_OP_NONE) {
        return;
    }
    if (c->tcp || c->fd < 0) {
        if (c->fd < 0 || (now > c->op_start && now - c->op_start > BC_TCP_TIMEOUT_NS)) {
            c->ctx->st.timeouts++;
            bc_finish(c, c->fd < 0 ? -ECONNRESET : -ETIMEDOUT);
        }
        return;
    }
    if (now < c->retx_at) {
        return;
    }
    if (c->tries >= BC_MAX_SENDS) {
        c->ctx->st.timeouts++;
        bc_finish(c, -ETIMEDOUT);
        return;
    }
    c->tries++;
    c->ctx->st.retransmits++;
    if (bc_send_req(c, now) != 0 && c->tries >= BC_MAX_SENDS) {
        bc_finish(c, -EIO);
    }
}
