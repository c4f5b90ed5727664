/* blindrelay-bench: control transactions of one client. Long-term
 * credentials (RFC 8489 9.2): the first request goes without, the 401
 * brings REALM and NONCE, the key is MD5(user:realm:password); a 438 (stale
 * nonce) is answered with the new nonce. RFC 8656: Allocate, Refresh,
 * CreatePermission, ChannelBind. UDP retransmits (RFC 8489 6.2.1). */
#include "bench_client.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "turn/auth.h"
#include "turn/stun_msg.h"

#define BC_RTO_NS 200000000u
#define BC_MAX_SENDS 6
#define BC_TCP_TIMEOUT_NS 8000000000u
#define BC_REBIND_NS 240000000000u /* channels live 600 s, permissions 300 s */

static const uint16_t bc_method[] = {
    [BC_OP_ALLOCATE] = TURN_ALLOCATE, [BC_OP_PERMISSION] = TURN_CREATE_PERMISSION,
    [BC_OP_BIND] = TURN_CHANNEL_BIND, [BC_OP_REFRESH] = TURN_REFRESH,
    [BC_OP_RELEASE] = TURN_REFRESH,
};

static void bc_build_body(struct stun_builder *b, const struct bc_client *c)
{
    const struct bc_opts *o = c->ctx->o;

    switch (c->op) {
    case BC_OP_ALLOCATE: {
        const uint8_t udp[4] = {17, 0, 0, 0};

        stun_build_attr(b, STUN_ATTR_REQUESTED_TRANSPORT, udp, sizeof(udp));
        if (o->lifetime) {
            stun_build_u32(b, STUN_ATTR_LIFETIME, o->lifetime);
        }
        break;
    }
    case BC_OP_BIND:
        stun_build_channel(b, BC_CHANNEL);
        /* fall through */
    case BC_OP_PERMISSION:
        stun_build_xaddr(b, STUN_ATTR_XOR_PEER_ADDRESS, &c->peer);
        break;
    case BC_OP_REFRESH:
        stun_build_u32(b, STUN_ATTR_LIFETIME, c->lifetime);
        break;
    case BC_OP_RELEASE:
        stun_build_u32(b, STUN_ATTR_LIFETIME, 0);
        break;
    default:
        break;
    }
}

/* Builds the request for c->op with c->tid (the same bytes on retransmit). */
static int bc_build(const struct bc_client *c, uint8_t *buf, size_t cap)
{
    const struct bc_ctx *ctx = c->ctx;
    struct stun_builder b;

    if (c->op == BC_OP_REGISTER) {
        buf[0] = 1;
        buf[1] = 0;
        buf[2] = (uint8_t)(c->id >> 8);
        buf[3] = (uint8_t)c->id;
        return 4;
    }
    stun_build_start(&b, buf, cap, bc_method[c->op], STUN_REQUEST, c->tid);
    bc_build_body(&b, c);
    if (c->nonce_len > 0 && ctx->have_key) {
        stun_build_attr(&b, STUN_ATTR_USERNAME, ctx->user, strlen(ctx->user));
        stun_build_attr(&b, STUN_ATTR_REALM, ctx->realm, strlen(ctx->realm));
        stun_build_attr(&b, STUN_ATTR_NONCE, c->nonce, c->nonce_len);
        stun_build_integrity(&b, STUN_ATTR_MESSAGE_INTEGRITY, ctx->key, 16);
    }
    stun_build_fingerprint(&b);
    return stun_build_finish(&b);
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
    return getrandom(c->tid, sizeof(c->tid), 0) == sizeof(c->tid) ? 0 : -EIO;
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

/* Takes REALM and NONCE from a 401/438; derives the key on a new realm. */
static int bc_absorb(struct bc_client *c, const struct stun_msg *m)
{
    struct bc_ctx *ctx = c->ctx;
    const struct stun_attr *realm = stun_msg_find(m, STUN_ATTR_REALM);
    const struct stun_attr *nonce = stun_msg_find(m, STUN_ATTR_NONCE);

    if (!nonce || nonce->len >= BC_NONCE_MAX || (!realm && !ctx->have_key)) {
        return -EPROTO;
    }
    memcpy(c->nonce, stun_attr_value(m, nonce), nonce->len);
    c->nonce_len = (uint8_t)nonce->len;
    if (realm && realm->len < sizeof(ctx->realm) &&
        (strlen(ctx->realm) != realm->len ||
         memcmp(ctx->realm, stun_attr_value(m, realm), realm->len) != 0)) {
        memcpy(ctx->realm, stun_attr_value(m, realm), realm->len);
        ctx->realm[realm->len] = '\0';
        ctx->have_key =
            turn_auth_key(STUN_PW_MD5, (const uint8_t *)ctx->user, strlen(ctx->user), ctx->realm,
                          ctx->password, strlen(ctx->password), ctx->key) == 16;
    }
    return ctx->have_key ? 0 : -EPROTO;
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

/* An error response: retry the credential dance, or end the op. */
static void bc_failure(struct bc_client *c, const struct stun_msg *m, uint64_t now)
{
    int code = 0;
    const char *reason;
    size_t rlen;
    bool had_creds = c->nonce_len > 0 && c->ctx->have_key;

    stun_msg_get_error(m, &code, &reason, &rlen);
    if ((code == 401 && !had_creds) || (code == 438 && c->stale++ < 3)) {
        if (bc_absorb(c, m) == 0 && bc_fresh_tid(c) == 0 && bc_send_req(c, now) == 0) {
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

    if (c->op == BC_OP_REGISTER) {
        if (len >= 4 && buf[0] == 1 && (unsigned)(buf[2] << 8 | buf[3]) == (c->id & 0xffff)) {
            bc_finish(c, 0);
        }
        return;
    }
    if (c->op == BC_OP_NONE || stun_msg_decode(&m, buf, len) != 0 ||
        memcmp(m.tid, c->tid, sizeof(c->tid)) != 0 || m.method != bc_method[c->op] ||
        (m.cls != STUN_SUCCESS && m.cls != STUN_ERROR)) {
        c->ctx->st.stray++;
        return;
    }
    if (m.cls == STUN_SUCCESS) {
        bc_success(c, &m, now);
    } else {
        bc_failure(c, &m, now);
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
