/* Test harness for turn/server.c: one server with an injected clock, fake
 * relay ops that record what the server asks of relay/, and helpers that
 * build long-term-authenticated requests (RFC 8489 9.2) and read replies.
 * Header-only (tests/CMakeLists.txt makes one binary per test_*.c): include
 * it from one test file per binary. */
#ifndef TESTS_TURN_SERVER_HARNESS_H
#define TESTS_TURN_SERVER_HARNESS_H

#include <errno.h>
#include <string.h>

#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "turn/server.h"

#define H_REALM "example.org"
#define H_ALICE "alice"
#define H_ALICE_PW "alice-pw"
#define H_BOB "bob"
#define H_BOB_PW "bob-pw"
#define H_DEFAULT_LIFETIME 600
#define H_MAX_LIFETIME 3600
#define H_MAX_PERMISSIONS 4
#define H_MAX_CHANNELS 4
#define H_PROTO_UDP 17
#define H_PROTO_TCP 6
#define H_FAMILY_IPV4 0x01
#define H_FAMILY_IPV6 0x02
#define H_MAX_RELAYS 32
#define H_MAX_NONCES 8

/* relay/'s relay socket, faked: just a number. */
struct turn_relay {
    int id;
};

/* What the server asked of relay/. */
struct fake_ops {
    int open_calls;
    int close_calls;
    int fail;  /* when nonzero, open returns it */
    bool ipv6; /* has an IPv6 relay address (2001:db8::1) */
    struct turn_relay relays[H_MAX_RELAYS];
    struct turn_alloc *allocs[H_MAX_RELAYS]; /* the alloc passed to each open */
    struct turn_relay_request last_req;
    int closed_ids[H_MAX_RELAYS];
};

struct h_nonce {
    union turn_addr ip;
    char text[TURN_NONCE_MAX + 1];
};

struct harness {
    struct turn_auth *auth;
    struct turn_policy *policy;
    struct turn_quota *quota;
    struct turn_ratelimit *limit; /* unauth-rate; none until h_set_unauth_rate */
    struct turn_server_config cfg;
    struct turn_server *srv;
    struct fake_ops ops;
    struct turn_clock now;
    uint32_t tid_seq;
    struct h_nonce nonces[H_MAX_NONCES];
    unsigned n_nonces;
    /* the last exchange */
    uint8_t reply_buf[TURN_REPLY_MAX];
    struct turn_reply reply;
    struct turn_forward fwd;
    struct stun_msg rmsg; /* the reply, decoded */
};

static struct harness H;

/* A request or indication under construction. */
struct h_msg {
    struct stun_builder b;
    uint8_t buf[1024];
    uint8_t tid[STUN_TID_LEN];
    uint16_t method;
    size_t len;
};

/* A datagram from a peer with headroom and tailroom, as relay/ gives it. */
struct h_peer_pkt {
    uint8_t buf[TURN_HEADROOM + 1500 + TURN_TAILROOM];
    uint8_t *data;
    size_t len;
};

static inline union turn_addr h_addr(const char *text)
{
    union turn_addr a;

    memset(&a, 0, sizeof(a));
    cr_assert_eq(turn_addr_parse(&a, text, 0), 0, "bad test address %s", text);
    return a;
}

static inline struct turn_tuple h_tuple(const char *client, enum turn_transport transport)
{
    struct turn_tuple t;

    memset(&t, 0, sizeof(t));
    t.client = h_addr(client);
    t.server = h_addr("192.0.2.10:3478");
    t.transport = (uint8_t)transport;
    return t;
}

/* ---- fake relay ops ---- */

static int fake_open(void *arg, struct turn_alloc *alloc, struct turn_relay_request *req,
                     struct turn_relay **relay, union turn_addr *advertised)
{
    struct fake_ops *f = arg;
    int n = f->open_calls++;

    f->last_req = *req;
    if (f->fail) {
        return f->fail;
    }
    if (req->family != AF_INET && !(req->family == AF_INET6 && f->ipv6)) {
        return -EAFNOSUPPORT;
    }
    cr_assert_lt(n, H_MAX_RELAYS);
    f->relays[n].id = n + 1;
    f->allocs[n] = alloc;
    *relay = &f->relays[n];
    memset(advertised, 0, sizeof(*advertised));
    if (req->family == AF_INET6) {
        advertised->in6.sin6_family = AF_INET6;
        inet_pton(AF_INET6, "2001:db8::1", &advertised->in6.sin6_addr);
        advertised->in6.sin6_port = htons((uint16_t)(50000 + n));
    } else {
        advertised->in4.sin_family = AF_INET;
        advertised->in4.sin_addr.s_addr = htonl(0xC6336401u); /* 198.51.100.1 */
        advertised->in4.sin_port = htons((uint16_t)(50000 + n));
    }
    if (req->flags & TURN_RELAY_RESERVE_NEXT) {
        memset(req->new_token, 0x70 + n, TURN_TOKEN_LEN);
        f->last_req = *req;
    }
    return 0;
}

static void fake_close(void *arg, struct turn_relay *relay)
{
    struct fake_ops *f = arg;

    cr_assert_lt(f->close_calls, H_MAX_RELAYS);
    f->closed_ids[f->close_calls++] = relay->id;
}

/* The allocation that the n-th open call (from 0) was made for. */
static inline struct turn_alloc *h_alloc(int n)
{
    cr_assert_not_null(H.ops.allocs[n]);
    return H.ops.allocs[n];
}

/* ---- setup ---- */

static inline void h_start_server(void)
{
    cr_assert_eq(turn_server_new(&H.srv, &H.cfg), 0);
}

static inline void h_setup(void)
{
    static const char *const users[] = {H_ALICE ":" H_ALICE_PW, H_BOB ":" H_BOB_PW};
    struct turn_auth_config ac = {
        .realm = H_REALM,
        .users = users,
        .n_users = 2,
        .nonce_lifetime = 86400, /* outlives every clock jump in these tests */
    };

    memset(&H, 0, sizeof(H));
    cr_assert_eq(turn_auth_new(&H.auth, &ac), 0);
    cr_assert_eq(turn_policy_new(&H.policy), 0);
    cr_assert_eq(turn_policy_add_rule(H.policy, "127.0.0.0/8", true), 0);
    cr_assert_eq(turn_quota_new(&H.quota, 0, 0), 0);
    H.cfg = (struct turn_server_config){
        .auth = H.auth,
        .policy = H.policy,
        .quota = H.quota,
        .ops = {.open = fake_open, .close = fake_close, .arg = &H.ops},
        .default_lifetime = H_DEFAULT_LIFETIME,
        .max_lifetime = H_MAX_LIFETIME,
        .max_permissions = H_MAX_PERMISSIONS,
        .max_channels = H_MAX_CHANNELS,
        .rfc5766_channels = true,
    };
    H.now.mono = 1000;
    H.now.wall = 1700000000;
    h_start_server();
}

static inline void h_teardown(void)
{
    turn_server_free(H.srv);
    turn_ratelimit_free(H.limit);
    turn_quota_free(H.quota);
    turn_policy_free(H.policy);
    turn_auth_free(H.auth);
    memset(&H, 0, sizeof(H));
}

/* Restarts the server after a change to H.cfg; forgets recorded calls. */
static inline void h_restart(void)
{
    turn_server_free(H.srv);
    memset(&H.ops, 0, sizeof(H.ops));
    h_start_server();
}

/* Restarts the server with a new quota. */
static inline void h_set_quota(uint32_t total, uint32_t per_user)
{
    turn_server_free(H.srv);
    H.srv = NULL;
    turn_quota_free(H.quota);
    cr_assert_eq(turn_quota_new(&H.quota, total, per_user), 0);
    H.cfg.quota = H.quota;
    h_restart();
}

/* Restarts the server with an unauth-rate limiter of this rate. */
static inline void h_set_unauth_rate(uint32_t rate)
{
    turn_server_free(H.srv);
    H.srv = NULL;
    turn_ratelimit_free(H.limit);
    cr_assert_eq(turn_ratelimit_new(&H.limit, rate), 0);
    H.cfg.unauth_limit = H.limit;
    h_restart();
}

static inline void h_advance(uint64_t seconds)
{
    H.now.mono += seconds;
    H.now.wall += seconds;
}

static inline void h_tick(void)
{
    turn_server_tick(H.srv, H.now.mono);
}

/* ---- building messages ---- */

static inline void h_start(struct h_msg *m, uint16_t method, uint8_t cls)
{
    memset(m, 0, sizeof(*m));
    H.tid_seq++;
    memcpy(m->tid, &H.tid_seq, sizeof(H.tid_seq));
    m->tid[11] = 0x5a;
    m->method = method;
    stun_build_start(&m->b, m->buf, sizeof(m->buf), method, cls, m->tid);
}

static inline void h_req(struct h_msg *m, uint16_t method)
{
    h_start(m, method, STUN_REQUEST);
}

/* Same method and transaction id as a message sent before. */
static inline void h_req_tid(struct h_msg *m, uint16_t method, const uint8_t tid[STUN_TID_LEN])
{
    memset(m, 0, sizeof(*m));
    memcpy(m->tid, tid, STUN_TID_LEN);
    m->method = method;
    stun_build_start(&m->b, m->buf, sizeof(m->buf), method, STUN_REQUEST, m->tid);
}

static inline void h_add_transport(struct h_msg *m, uint8_t proto)
{
    stun_build_u32(&m->b, STUN_ATTR_REQUESTED_TRANSPORT, (uint32_t)proto << 24);
}

static inline void h_add_lifetime(struct h_msg *m, uint32_t lifetime)
{
    stun_build_u32(&m->b, STUN_ATTR_LIFETIME, lifetime);
}

static inline void h_add_family(struct h_msg *m, uint8_t family)
{
    stun_build_u32(&m->b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, (uint32_t)family << 24);
}

static inline void h_add_peer(struct h_msg *m, const char *peer)
{
    union turn_addr a = h_addr(peer);

    stun_build_xaddr(&m->b, STUN_ATTR_XOR_PEER_ADDRESS, &a);
}

static inline void h_add_data(struct h_msg *m, const void *data, size_t len)
{
    stun_build_attr(&m->b, STUN_ATTR_DATA, data, len);
}

static inline size_t h_finish(struct h_msg *m)
{
    int len = stun_build_finish(&m->b);

    cr_assert_gt(len, 0, "test message did not build: %d", len);
    m->len = (size_t)len;
    return m->len;
}

/* ---- exchanges ---- */

/* Hands one packet to the server as from tuple t; decodes a reply. */
static inline enum turn_verdict h_send(const struct turn_tuple *t, const uint8_t *pkt, size_t len)
{
    enum turn_verdict v;

    memset(&H.fwd, 0, sizeof(H.fwd));
    memset(H.reply_buf, 0, sizeof(H.reply_buf));
    H.reply.buf = H.reply_buf;
    H.reply.len = 0;
    v = turn_server_on_client(H.srv, t, pkt, len, H.now, &H.reply, &H.fwd);
    if (v == TURN_REPLY) {
        cr_assert_leq(H.reply.len, TURN_REPLY_MAX);
        cr_assert_eq(stun_msg_decode(&H.rmsg, H.reply_buf, H.reply.len), 0,
                     "the server's reply does not decode");
    }
    return v;
}

/* Sends a request; expects a response to it. Returns 0 for a success
 * response, else the ERROR-CODE of the error response. */
static inline int h_call(const struct turn_tuple *t, struct h_msg *m)
{
    int code = -1;
    const char *reason;
    size_t reason_len;

    h_finish(m);
    cr_assert_eq(h_send(t, m->buf, m->len), TURN_REPLY, "no reply to method 0x%03x", m->method);
    cr_assert_eq(H.rmsg.method, m->method);
    cr_assert_eq(memcmp(H.rmsg.tid, m->tid, STUN_TID_LEN), 0, "reply has another tid");
    if (H.rmsg.cls == STUN_SUCCESS) {
        return 0;
    }
    cr_assert_eq(H.rmsg.cls, STUN_ERROR);
    cr_assert_eq(stun_msg_get_error(&H.rmsg, &code, &reason, &reason_len), 0,
                 "error response without ERROR-CODE");
    return code;
}

/* The NONCE the server gives this client's IP, learnt from the 401 to an
 * unauthenticated Allocate (then cached per IP). */
static inline const char *h_nonce(const struct turn_tuple *t)
{
    struct h_msg m;
    const struct stun_attr *nonce;
    struct h_nonce *n;

    for (unsigned i = 0; i < H.n_nonces; i++) {
        if (turn_addr_ip_equal(&H.nonces[i].ip, &t->client)) {
            return H.nonces[i].text;
        }
    }
    h_req(&m, TURN_ALLOCATE);
    h_add_transport(&m, H_PROTO_UDP);
    cr_assert_eq(h_call(t, &m), 401);
    nonce = stun_msg_find(&H.rmsg, STUN_ATTR_NONCE);
    cr_assert_not_null(nonce, "401 without NONCE");
    cr_assert(nonce->len > 0 && nonce->len <= TURN_NONCE_MAX);
    cr_assert_lt(H.n_nonces, H_MAX_NONCES);
    n = &H.nonces[H.n_nonces++];
    n->ip = t->client;
    memcpy(n->text, stun_attr_value(&H.rmsg, nonce), nonce->len);
    n->text[nonce->len] = '\0';
    return n->text;
}

/* MD5 long-term key of user:realm:pass into key[16]. */
static inline size_t h_key(const char *user, const char *pass, uint8_t key[TURN_AUTH_MAX_KEY])
{
    size_t n = turn_auth_key(STUN_PW_MD5, (const uint8_t *)user, strlen(user), H_REALM, pass,
                             strlen(pass), key);

    cr_assert_eq(n, 16);
    return n;
}

/* Appends USERNAME, REALM, NONCE (this client's) and MESSAGE-INTEGRITY. */
static inline void h_auth(struct h_msg *m, const struct turn_tuple *t, const char *user,
                          const char *pass)
{
    /* the nonce exchange uses H.rmsg: learn it before building on */
    const char *nonce = h_nonce(t);
    uint8_t key[TURN_AUTH_MAX_KEY];
    size_t key_len = h_key(user, pass, key);

    stun_build_attr(&m->b, STUN_ATTR_USERNAME, user, strlen(user));
    stun_build_attr(&m->b, STUN_ATTR_REALM, H_REALM, strlen(H_REALM));
    stun_build_attr(&m->b, STUN_ATTR_NONCE, nonce, strlen(nonce));
    stun_build_integrity(&m->b, STUN_ATTR_MESSAGE_INTEGRITY, key, key_len);
}

/* ---- the common requests, as alice unless a user is given ---- */

static inline int h_allocate_as(const struct turn_tuple *t, const char *user, const char *pass)
{
    struct h_msg m;

    h_nonce(t);
    h_req(&m, TURN_ALLOCATE);
    h_add_transport(&m, H_PROTO_UDP);
    h_auth(&m, t, user, pass);
    return h_call(t, &m);
}

static inline int h_allocate(const struct turn_tuple *t)
{
    return h_allocate_as(t, H_ALICE, H_ALICE_PW);
}

/* Refresh with LIFETIME lifetime (none when lifetime < 0). */
static inline int h_refresh_as(const struct turn_tuple *t, long lifetime, const char *user,
                               const char *pass)
{
    struct h_msg m;

    h_nonce(t);
    h_req(&m, TURN_REFRESH);
    if (lifetime >= 0) {
        h_add_lifetime(&m, (uint32_t)lifetime);
    }
    h_auth(&m, t, user, pass);
    return h_call(t, &m);
}

static inline int h_refresh(const struct turn_tuple *t, long lifetime)
{
    return h_refresh_as(t, lifetime, H_ALICE, H_ALICE_PW);
}

/* CreatePermission for one peer ("ip:port"). */
static inline int h_permit(const struct turn_tuple *t, const char *peer)
{
    struct h_msg m;

    h_nonce(t);
    h_req(&m, TURN_CREATE_PERMISSION);
    h_add_peer(&m, peer);
    h_auth(&m, t, H_ALICE, H_ALICE_PW);
    return h_call(t, &m);
}

static inline int h_bind(const struct turn_tuple *t, uint16_t number, const char *peer)
{
    struct h_msg m;

    h_nonce(t);
    h_req(&m, TURN_CHANNEL_BIND);
    stun_build_channel(&m.b, number);
    h_add_peer(&m, peer);
    h_auth(&m, t, H_ALICE, H_ALICE_PW);
    return h_call(t, &m);
}

/* ---- data ---- */

/* Writes a ChannelData frame (padded to 4 when pad) into buf; returns its
 * length. */
static inline size_t h_chandata(uint8_t *buf, uint16_t number, const void *payload, size_t len,
                                bool pad)
{
    size_t padded = pad ? (len + 3) & ~(size_t)3 : len;

    turn_channel_header(buf, number, (uint16_t)len);
    memcpy(buf + TURN_CHANNEL_HEADER_LEN, payload, len);
    memset(buf + TURN_CHANNEL_HEADER_LEN + len, 0, padded - len);
    return TURN_CHANNEL_HEADER_LEN + padded;
}

/* A Send indication to peer carrying payload. */
static inline size_t h_send_indication(struct h_msg *m, const char *peer, const void *payload,
                                       size_t len)
{
    h_start(m, TURN_SEND, STUN_INDICATION);
    h_add_peer(m, peer);
    h_add_data(m, payload, len);
    return h_finish(m);
}

/* A datagram from peer to alloc's relay socket. */
static inline enum turn_verdict h_from_peer(struct h_peer_pkt *p, struct turn_alloc *alloc,
                                            const char *peer, const void *payload, size_t len)
{
    union turn_addr from = h_addr(peer);

    memset(p->buf, 0xEE, sizeof(p->buf));
    p->data = p->buf + TURN_HEADROOM;
    p->len = len;
    memcpy(p->data, payload, len);
    return turn_server_on_peer(H.srv, alloc, &from, &p->data, &p->len, H.now.mono);
}

#endif
