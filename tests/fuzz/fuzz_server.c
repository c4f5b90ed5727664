/* libFuzzer target for the sans-I/O TURN server (turn/server.h, RFC 8489,
 * RFC 8656): fuzzed packets from several client 5-tuples (UDP, TCP, TLS,
 * IPv4, IPv6), requests that the harness signs with valid long-term
 * credentials around fuzzed attributes, peer datagrams into live
 * allocations, and a moving clock. Checks the server's invariants.
 *
 * Input layout:
 *
 *   byte 0     setup flags (struct fz_flags below)
 *   records    op (1 byte) | len (2 bytes, big-endian) | body (len bytes,
 *              cut at the end of the input)
 *
 *   op & 7  what                       op >> 3 (arg)
 *   0       raw packet                 client tuple
 *   1       signed request             client tuple
 *   2       signed request, assisted   client tuple
 *   3       ChannelData frame          client tuple
 *   4       Send indication            client tuple
 *   5       peer datagram              -
 *   6       clock advance + tick       how far
 *   7       stream connection closed   client tuple
 *
 * A signed request's body: byte 0 picks method and credentials (see
 * sign_opts), byte 1 a peer and channel (assisted: the harness adds
 * REQUESTED-TRANSPORT, XOR-PEER-ADDRESS, CHANNEL-NUMBER as the method
 * needs), the rest is attributes as type (2) | length (1) | value. The
 * harness then appends USERNAME, REALM, NONCE, MESSAGE-INTEGRITY(-SHA256)
 * and maybe FINGERPRINT, so fuzzed attributes reach the authenticated
 * handlers. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "turn/server.h"

/* Release builds define NDEBUG; the fuzzer's checks must stay. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

#define FZ_REALM "r"
#define FZ_USER "u"
#define FZ_PASS "p"
#define FZ_SECRET "s"
#define FZ_MAX_RELAYS 64
#define FZ_MAX_RECORDS 256
#define FZ_MAX_TOKENS 16
#define FZ_FUZZED_ATTRS 30 /* leaves room under STUN_MAX_ATTRS for ours */
#define FZ_RELAY_PORT 50000
#define FZ_PROTO_UDP 17
#define FZ_N(a) (sizeof(a) / sizeof((a)[0]))

/* -DFZ_TRACE prints what happens to each record (to check seeds by hand). */
#ifdef FZ_TRACE
#define TRACE(...) fprintf(stderr, __VA_ARGS__)
#else
#define TRACE(...) ((void)0)
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* relay/'s relay socket, faked: a slot of the fuzz state. */
struct turn_relay {
    unsigned slot;
    bool live;
    struct turn_alloc *alloc; /* the alloc it was opened for */
};

struct fz_token {
    bool held;
    uint8_t value[TURN_TOKEN_LEN];
};

/* One input's world. */
struct fz {
    struct turn_quota *quota;
    struct turn_server *srv;
    struct turn_clock now;
    struct turn_relay relays[FZ_MAX_RELAYS];
    struct fz_token tokens[FZ_MAX_TOKENS];
    unsigned opens, opens_ok, closes, live;
    bool ipv6;       /* the fake relay/ has an IPv6 relay address */
    bool flaky_open; /* every third open fails */
    bool setup_done; /* flaky_open applies after the harness's own allocations */
    bool draining;
    uint32_t tid_seq;
    uint8_t last_tid[STUN_TID_LEN];
};

/* Read-only state shared by every input (as workers share auth/policy). */
static union turn_addr g_alternate; /* IPv4 only */
static struct turn_auth *g_auth;
static struct turn_policy *g_policy;
static uint8_t g_pw_algs[16];
static size_t g_pw_algs_len;

static const struct {
    const char *client, *server;
    enum turn_transport transport;
} tuple_specs[] = {
    {"127.0.0.1:40000", "127.0.0.1:3478", TURN_TRANSPORT_UDP},
    {"127.0.0.1:40001", "127.0.0.1:3478", TURN_TRANSPORT_UDP},
    {"127.0.0.1:40002", "127.0.0.1:3478", TURN_TRANSPORT_TCP},
    {"[::1]:40003", "[::1]:3478", TURN_TRANSPORT_UDP},
    {"127.0.0.5:40004", "127.0.0.1:5349", TURN_TRANSPORT_TLS},
    {"127.0.0.1:40000", "127.0.0.2:3478", TURN_TRANSPORT_UDP},
    {"[::ffff:127.0.0.1]:40006", "127.0.0.1:3478", TURN_TRANSPORT_UDP},
    {"[::1]:40007", "[::1]:3478", TURN_TRANSPORT_TCP},
};

static const char *const peer_specs[] = {
    "127.0.0.1:9000",      "127.0.0.1:9001",          "127.0.0.2:9000",
    "8.8.8.8:53",          "10.0.0.1:9000",           "192.168.1.1:80",
    "127.0.0.1:3478",      "127.0.0.1:50001",         "[::1]:9000",
    "[2606:4700::1]:443",  "[::ffff:127.0.0.1]:9000", "[::ffff:10.0.0.1]:9000",
    "[64:ff9b::a00:1]:80", "[2001:db8::5]:9000",      "0.0.0.0:9000",
    "255.255.255.255:9",
};

static struct turn_tuple tuples[FZ_N(tuple_specs)];
static union turn_addr peers[FZ_N(peer_specs)];
static int conns[FZ_N(tuple_specs)]; /* stand-ins for relay/'s handles */

static union turn_addr parse_addr(const char *text)
{
    union turn_addr a;

    memset(&a, 0, sizeof(a));
    if (turn_addr_parse(&a, text, 0) < 0) {
        fprintf(stderr, "fuzz_server: bad address %s\n", text);
        abort();
    }
    return a;
}

/* ---- fake relay ops ---- */

static int take_token(struct fz *z, const uint8_t *token)
{
    for (unsigned i = 0; i < FZ_MAX_TOKENS; i++) {
        if (z->tokens[i].held && memcmp(z->tokens[i].value, token, TURN_TOKEN_LEN) == 0) {
            z->tokens[i].held = false;
            return 0;
        }
    }
    return -ENOENT;
}

static void give_token(struct fz *z, unsigned slot, uint8_t token[TURN_TOKEN_LEN])
{
    struct fz_token *t = &z->tokens[slot % FZ_MAX_TOKENS];

    memset(token, 0x70, TURN_TOKEN_LEN);
    token[0] = (uint8_t)slot;
    t->held = true;
    memcpy(t->value, token, TURN_TOKEN_LEN);
}

static int fake_open(void *arg, struct turn_alloc *alloc, struct turn_relay_request *req,
                     struct turn_relay **relay, union turn_addr *advertised)
{
    struct fz *z = arg;
    unsigned slot = z->opens_ok;
    struct turn_relay *r;

    CHECK(alloc != NULL && req != NULL);
    CHECK(req->family == AF_INET || req->family == AF_INET6);
    CHECK(!(req->token && (req->flags & TURN_RELAY_RESERVE_NEXT)));
    for (unsigned i = 0; i < z->opens_ok; i++) {
        CHECK(!z->relays[i].live || z->relays[i].alloc != alloc);
    }
    z->opens++;
    if (z->setup_done && z->flaky_open && z->opens % 3 == 0) {
        return -EADDRINUSE;
    }
    if (req->family == AF_INET6 && !z->ipv6) {
        return -EAFNOSUPPORT;
    }
    if (slot >= FZ_MAX_RELAYS) {
        return -EADDRINUSE;
    }
    if (req->token && take_token(z, req->token) < 0) {
        return -ENOENT;
    }
    if (req->flags & TURN_RELAY_RESERVE_NEXT) {
        give_token(z, slot, req->new_token);
    }
    r = &z->relays[slot];
    *r = (struct turn_relay){.slot = slot, .live = true, .alloc = alloc};
    z->opens_ok++;
    z->live++;
    *relay = r;
    *advertised = parse_addr(req->family == AF_INET6 ? "[2606:4700::99]:0" : "127.0.0.1:0");
    turn_addr_set_port(advertised, (uint16_t)(FZ_RELAY_PORT + slot));
    return 0;
}

static void fake_close(void *arg, struct turn_relay *relay)
{
    struct fz *z = arg;

    CHECK(relay >= z->relays && relay < z->relays + z->opens_ok);
    CHECK(relay->live); /* closed twice */
    relay->live = false;
    relay->alloc = NULL;
    z->closes++;
    z->live--;
}

/* ---- checks ---- */

static bool same_tuple(const struct turn_tuple *a, const struct turn_tuple *b)
{
    return turn_addr_equal(&a->client, &b->client) && turn_addr_equal(&a->server, &b->server) &&
           a->transport == b->transport;
}

/* The server's view of its allocations matches the relays it holds open:
 * the count, the quota, the gauge, and which tuples have one. Reading
 * alloc->tuple of every live relay also lets ASan catch an allocation
 * freed without its relay being closed. */
static void check_counts(struct fz *z)
{
    CHECK(turn_server_allocations(z->srv) == z->live);
    CHECK(turn_quota_in_use(z->quota) == z->live);
    CHECK(turn_server_stats(z->srv)->allocations_active == z->live);
    CHECK(z->opens_ok == z->closes + z->live);
    for (size_t t = 0; t < FZ_N(tuples); t++) {
        bool held = false;

        for (unsigned i = 0; i < z->opens_ok; i++) {
            held |= z->relays[i].live && same_tuple(&z->relays[i].alloc->tuple, &tuples[t]);
        }
        CHECK(turn_server_has_allocation(z->srv, &tuples[t]) == held);
    }
}

static bool is_turn_method(uint16_t method)
{
    return method == TURN_ALLOCATE || method == TURN_REFRESH || method == TURN_CREATE_PERMISSION ||
           method == TURN_CHANNEL_BIND;
}

/* A reply answers the request in pkt: same method and transaction, a
 * response class, a well-formed ERROR-CODE on errors, no integrity on a
 * challenge. With key, a success to an authenticated request must carry
 * integrity under that key; without, nothing but Binding may succeed. */
static void check_reply(const uint8_t *pkt, size_t len, const struct turn_reply *reply,
                        const uint8_t *key, size_t key_len, uint16_t mi_attr)
{
    struct stun_msg req, msg;
    int code;
    const char *reason;
    size_t reason_len;

    CHECK(reply->len >= STUN_HEADER_LEN && reply->len <= TURN_REPLY_MAX);
    CHECK(stun_msg_decode(&req, pkt, len) == 0);
    CHECK(stun_msg_decode(&msg, reply->buf, reply->len) == 0);
    CHECK(msg.len == reply->len);
    CHECK(msg.method == req.method);
    CHECK(memcmp(msg.tid, req.tid, STUN_TID_LEN) == 0);
    CHECK(msg.cls == STUN_SUCCESS || msg.cls == STUN_ERROR);
    if (msg.cls == STUN_ERROR) {
        CHECK(stun_msg_get_error(&msg, &code, &reason, &reason_len) == 0);
        if (code == 401 || code == 438) {
            CHECK(stun_msg_find(&msg, STUN_ATTR_NONCE) && stun_msg_find(&msg, STUN_ATTR_REALM));
            CHECK(!stun_msg_find(&msg, STUN_ATTR_MESSAGE_INTEGRITY) &&
                  !stun_msg_find(&msg, STUN_ATTR_MESSAGE_INTEGRITY_SHA256));
        }
        return;
    }
    if (!is_turn_method(msg.method)) {
        CHECK(msg.method == STUN_BINDING);
        return;
    }
    CHECK(key != NULL); /* unauthenticated bytes never get a TURN success */
    CHECK(stun_msg_check_integrity(&msg, mi_attr, key, key_len) == 0);
}

static bool relay_is_live(const struct fz *z, const struct turn_relay *relay)
{
    return relay >= z->relays && relay < z->relays + z->opens_ok && relay->live;
}

/* Hands one frame to the server from tuple t and checks what comes back.
 * key: the credentials the harness signed it with, if any. */
static enum turn_verdict client_send(struct fz *z, unsigned t, const uint8_t *bytes, size_t len,
                                     const uint8_t *key, size_t key_len, uint16_t mi_attr)
{
    uint8_t reply_buf[TURN_REPLY_MAX];
    struct turn_reply reply = {.buf = reply_buf, .len = 0};
    struct turn_forward fwd;
    enum turn_verdict v;
    uint8_t *pkt = malloc(len ? len : 1); /* exact size: ASan sees over-reads */

    CHECK(pkt != NULL);
    memcpy(pkt, bytes, len);
    memset(&fwd, 0, sizeof(fwd));
    v = turn_server_on_client(z->srv, &tuples[t % FZ_N(tuples)], pkt, len, z->now, &reply, &fwd);
    TRACE("client %u: method 0x%03x, %zu bytes -> verdict %d, reply %s, allocations %u\n",
          t % (unsigned)FZ_N(tuples), len >= 2 ? (pkt[0] << 8 | pkt[1]) & 0x3eef : 0, len, (int)v,
          v != TURN_REPLY         ? "-"
          : (reply.buf[1] & 0x10) ? "error"
                                  : "success",
          z->live);
    switch (v) {
    case TURN_REPLY:
        check_reply(pkt, len, &reply, key, key_len, mi_attr);
        break;
    case TURN_FORWARD:
        CHECK(fwd.data >= pkt && fwd.len <= len && fwd.data + fwd.len <= pkt + len);
        CHECK(relay_is_live(z, fwd.relay));
        CHECK(fwd.peer.sa.sa_family == AF_INET || fwd.peer.sa.sa_family == AF_INET6);
        CHECK(turn_policy_allowed(g_policy, &fwd.peer));
        break;
    case TURN_DROP:
        break;
    default:
        CHECK(0);
    }
    free(pkt);
    check_counts(z);
    return v;
}

/* ---- signed requests ---- */

/* What byte 0 of a signed request's body asks for. */
struct sign_opts {
    uint16_t method;
    unsigned cred; /* 0 static MD5, 1 static SHA-256, 2 REST, 3 wrong password */
    bool fingerprint;
    bool stale_nonce;
    bool retransmit; /* reuse the previous transaction id */
};

static struct sign_opts sign_opts(uint8_t b)
{
    static const uint16_t methods[] = {TURN_ALLOCATE,     TURN_REFRESH,  TURN_CREATE_PERMISSION,
                                       TURN_CHANNEL_BIND, TURN_ALLOCATE, TURN_CHANNEL_BIND,
                                       STUN_BINDING,      0x00F};

    return (struct sign_opts){
        .method = methods[b & 7],
        .cred = (b >> 3) & 3,
        .fingerprint = b & 0x20,
        .stale_nonce = (b & 0xC0) == 0xC0,
        .retransmit = (b & 0xC0) == 0x40,
    };
}

/* Appends the fuzzed attributes: type (2) | length (1) | value. */
static void add_fuzzed_attrs(struct stun_builder *b, const uint8_t *p, size_t len)
{
    unsigned n = 0;

    while (len >= 3 && n < FZ_FUZZED_ATTRS) {
        uint16_t type = (uint16_t)(p[0] << 8 | p[1]);
        size_t alen = p[2] < len - 3 ? p[2] : len - 3;

        stun_build_attr(b, type, p + 3, alen);
        p += 3 + alen;
        len -= 3 + alen;
        n++;
    }
}

/* Attributes the method needs, so that the fuzzer starts from requests
 * that succeed: pick selects the peer and the channel number. */
static void add_assisted_attrs(struct stun_builder *b, uint16_t method, uint8_t pick)
{
    const union turn_addr *peer = &peers[pick % FZ_N(peers)];

    switch (method) {
    case TURN_ALLOCATE:
        stun_build_u32(b, STUN_ATTR_REQUESTED_TRANSPORT, (uint32_t)FZ_PROTO_UDP << 24);
        break;
    case TURN_CHANNEL_BIND:
        stun_build_channel(b, (uint16_t)(TURN_CHANNEL_MIN + (pick >> 4)));
        /* fall through */
    case TURN_CREATE_PERMISSION:
        stun_build_xaddr(b, STUN_ATTR_XOR_PEER_ADDRESS, peer);
        break;
    default:
        break;
    }
}

/* USERNAME, REALM, NONCE, the password algorithm attributes and
 * MESSAGE-INTEGRITY(-SHA256); writes the key used. */
static void add_credentials(struct fz *z, struct stun_builder *b, const struct sign_opts *o,
                            const struct turn_tuple *t, uint8_t key[TURN_AUTH_MAX_KEY],
                            size_t *key_len, uint16_t *mi_attr)
{
    char user[48], pass[32], nonce[TURN_NONCE_MAX + 1];
    enum stun_pw_alg alg = o->cred == 1 ? STUN_PW_SHA256 : STUN_PW_MD5;
    size_t nonce_len;

    if (o->cred == 2) {
        snprintf(user, sizeof(user), "%llu:x", (unsigned long long)(z->now.wall + 3600));
        turn_auth_rest_password(FZ_SECRET, user, pass);
    } else {
        snprintf(user, sizeof(user), "%s", FZ_USER);
        snprintf(pass, sizeof(pass), "%s", o->cred == 3 ? "wrong" : FZ_PASS);
    }
    nonce_len =
        turn_auth_nonce(g_auth, &t->client, z->now.wall - (o->stale_nonce ? 7200 : 0), nonce);
    CHECK(nonce_len > 0);
    *key_len =
        turn_auth_key(alg, (const uint8_t *)user, strlen(user), FZ_REALM, pass, strlen(pass), key);
    CHECK(*key_len > 0);
    stun_build_attr(b, STUN_ATTR_USERNAME, user, strlen(user));
    stun_build_attr(b, STUN_ATTR_REALM, FZ_REALM, strlen(FZ_REALM));
    stun_build_attr(b, STUN_ATTR_NONCE, nonce, nonce_len);
    *mi_attr = STUN_ATTR_MESSAGE_INTEGRITY;
    if (alg == STUN_PW_SHA256) {
        const uint8_t choice[4] = {0, STUN_PW_SHA256, 0, 0};

        stun_build_attr(b, STUN_ATTR_PASSWORD_ALGORITHMS, g_pw_algs, g_pw_algs_len);
        stun_build_attr(b, STUN_ATTR_PASSWORD_ALGORITHM, choice, sizeof(choice));
        *mi_attr = STUN_ATTR_MESSAGE_INTEGRITY_SHA256;
    }
    stun_build_integrity(b, *mi_attr, key, *key_len);
}

/* Builds a request around the fuzzed body, signs it, sends it from tuple
 * t. Returns the server's verdict (TURN_DROP if it did not build). */
static enum turn_verdict signed_request(struct fz *z, unsigned t, const uint8_t *body, size_t len,
                                        bool assisted)
{
    uint8_t buf[2048], key[TURN_AUTH_MAX_KEY], tid[STUN_TID_LEN] = {0};
    struct stun_builder b;
    struct sign_opts o = sign_opts(len > 0 ? body[0] : 0);
    uint8_t pick = len > 1 ? body[1] : 0;
    size_t key_len = 0;
    uint16_t mi_attr = 0;
    int n;

    t %= FZ_N(tuples);
    if (o.retransmit) {
        memcpy(tid, z->last_tid, STUN_TID_LEN);
    } else {
        z->tid_seq++;
        memcpy(tid, &z->tid_seq, sizeof(z->tid_seq));
        tid[11] = 0xf2;
        memcpy(z->last_tid, tid, STUN_TID_LEN);
    }
    stun_build_start(&b, buf, sizeof(buf), o.method, STUN_REQUEST, tid);
    if (assisted) {
        add_assisted_attrs(&b, o.method, pick);
    }
    if (len > 2) {
        add_fuzzed_attrs(&b, body + 2, len - 2);
    }
    add_credentials(z, &b, &o, &tuples[t], key, &key_len, &mi_attr);
    if (o.fingerprint) {
        stun_build_fingerprint(&b);
    }
    n = stun_build_finish(&b);
    if (n < 0) {
        return TURN_DROP;
    }
    return client_send(z, t, buf, (size_t)n, key, key_len, mi_attr);
}

/* ---- data ---- */

/* A ChannelData frame: body[0] picks the channel, the rest is the payload;
 * arg bit 4 leaves a stream frame unpadded. */
static void channel_data(struct fz *z, unsigned arg, const uint8_t *body, size_t len)
{
    uint8_t *frame;
    uint16_t number = (uint16_t)(TURN_CHANNEL_MIN + (len ? body[0] : 0) % 32);
    size_t plen = len > 1 ? len - 1 : 0;
    size_t pad = (arg & 0x10) ? 0 : (4 - (plen & 3)) & 3;

    if (plen > 0xffff) {
        return;
    }
    frame = calloc(1, TURN_CHANNEL_HEADER_LEN + plen + pad);
    CHECK(frame != NULL);
    turn_channel_header(frame, number, (uint16_t)plen);
    if (plen) {
        memcpy(frame + TURN_CHANNEL_HEADER_LEN, body + 1, plen);
    }
    client_send(z, arg, frame, TURN_CHANNEL_HEADER_LEN + plen + pad, NULL, 0, 0);
    free(frame);
}

/* A Send indication to a picked peer carrying the rest of the body. */
static void send_indication(struct fz *z, unsigned arg, const uint8_t *body, size_t len)
{
    static uint8_t buf[STUN_HEADER_LEN + 32 + 0x10000];
    const uint8_t tid[STUN_TID_LEN] = {0x5e, 0x4d};
    struct stun_builder b;
    int n;

    stun_build_start(&b, buf, sizeof(buf), TURN_SEND, STUN_INDICATION, tid);
    stun_build_xaddr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &peers[(len ? body[0] : 0) % FZ_N(peers)]);
    stun_build_attr(&b, STUN_ATTR_DATA, len > 1 ? body + 1 : body, len > 1 ? len - 1 : 0);
    if (arg & 0x10) {
        stun_build_fingerprint(&b);
    }
    n = stun_build_finish(&b);
    if (n > 0) {
        client_send(z, arg, buf, (size_t)n, NULL, 0, 0);
    }
}

/* The framed message from turn_server_on_peer carries payload unchanged. */
static void check_peer_frame(const struct turn_alloc *alloc, const union turn_addr *peer,
                             uint64_t now, const uint8_t *out, size_t out_len,
                             const uint8_t *payload, size_t plen)
{
    const struct turn_channel *chan;
    struct stun_msg msg;
    const struct stun_attr *data;
    union turn_addr from;
    uint16_t number, got_len;
    size_t frame_len;
    bool stream = alloc->tuple.transport != TURN_TRANSPORT_UDP;

    if (stun_classify(out, out_len, true) == STUN_PKT_CHANNEL_DATA) {
        CHECK(turn_channel_decode(out, out_len, stream, &number, &got_len, &frame_len) == 0);
        CHECK(got_len == plen && frame_len == out_len);
        chan = turn_alloc_channel(alloc, number, now);
        CHECK(chan != NULL && turn_addr_equal(&chan->peer, peer));
        CHECK(plen == 0 || memcmp(out + TURN_CHANNEL_HEADER_LEN, payload, plen) == 0);
        return;
    }
    CHECK(stun_msg_decode(&msg, out, out_len) == 0);
    CHECK(msg.len == out_len && msg.cls == STUN_INDICATION && msg.method == TURN_DATA);
    CHECK(stun_msg_get_xaddr(&msg, STUN_ATTR_XOR_PEER_ADDRESS, &from) == 0);
    CHECK(turn_addr_equal(&from, peer));
    data = stun_msg_find(&msg, STUN_ATTR_DATA);
    CHECK(data != NULL && data->len == plen);
    CHECK(plen == 0 || memcmp(stun_attr_value(&msg, data), payload, plen) == 0);
}

/* A datagram from a picked peer to a picked live allocation, in a buffer
 * with exactly TURN_HEADROOM before and TURN_TAILROOM after the payload. */
static void peer_datagram(struct fz *z, const uint8_t *body, size_t len)
{
    const union turn_addr *peer = &peers[(len > 1 ? body[1] : 0) % FZ_N(peers)];
    const uint8_t *payload = len > 2 ? body + 2 : body;
    size_t plen = len > 2 ? len - 2 : 0, out_len = plen;
    struct turn_alloc *alloc = NULL;
    uint8_t *buf, *out;
    unsigned want = len ? body[0] % (z->live ? z->live : 1) : 0, seen = 0;
    enum turn_verdict v;

    for (unsigned i = 0; i < z->opens_ok && !alloc; i++) {
        if (z->relays[i].live && seen++ == want) {
            alloc = z->relays[i].alloc;
        }
    }
    if (!alloc) {
        return;
    }
    buf = malloc(TURN_HEADROOM + plen + TURN_TAILROOM);
    CHECK(buf != NULL);
    memset(buf, 0xA5, TURN_HEADROOM + plen + TURN_TAILROOM);
    if (plen) {
        memcpy(buf + TURN_HEADROOM, payload, plen);
    }
    out = buf + TURN_HEADROOM;
    v = turn_server_on_peer(z->srv, alloc, peer, &out, &out_len, z->now.mono);
    TRACE("peer %u -> alloc %u: %zu bytes -> verdict %d, %zu bytes\n", (unsigned)(peer - peers),
          want, plen, (int)v, out_len);
    if (v == TURN_FORWARD) {
        CHECK(out >= buf && out <= buf + TURN_HEADROOM);
        CHECK(out_len >= plen && out + out_len <= buf + TURN_HEADROOM + plen + TURN_TAILROOM);
        check_peer_frame(alloc, peer, z->now.mono, out, out_len, payload, plen);
    } else {
        CHECK(v == TURN_DROP);
        CHECK(out == buf + TURN_HEADROOM && out_len == plen);
    }
    free(buf);
    check_counts(z);
}

/* arg 0-21: the clock moves on and the server ticks; 22-31: draining is
 * turned on or off (an IPv4 client is redirected, an IPv6 one refused). */
static void advance(struct fz *z, unsigned arg)
{
    static const uint32_t steps[] = {0, 1, 2, 30, 120, 299, 301, 599, 601, 3600, 86400};

    if (arg >= 2 * FZ_N(steps)) {
        z->draining = !z->draining;
        turn_server_set_draining(z->srv, z->draining);
        return;
    }
    z->now.mono += steps[arg % FZ_N(steps)];
    z->now.wall += steps[arg % FZ_N(steps)];
    turn_server_tick(z->srv, z->now.mono);
    check_counts(z);
}

/* ---- setup ---- */

/* struct fz_flags, from byte 0 of the input:
 *   bits 0-1  allocations the harness makes first: none, client 0, clients
 *             0 and 2 (UDP, TCP), clients 0, 2 and 3 (IPv6 relay)
 *   bit 2     relay/ has an IPv6 relay address
 *   bit 3     RFC 5766 channel range (0x4000-0x7FFF)
 *   bits 4-5  quota: none, total 2, 1 per user, total 1
 *   bit 6     every third relay open fails (after setup)
 *   bit 7     tight limits: 2 permissions, 2 channels, lifetimes 60/120 */
static int start_server(struct fz *z, uint8_t flags)
{
    static const uint32_t quota_total[] = {0, 2, 0, 1}, quota_user[] = {0, 0, 1, 0};
    bool tight = flags & 0x80;
    struct turn_server_config cfg = {
        .auth = g_auth,
        .policy = g_policy,
        .ops = {.open = fake_open, .close = fake_close, .arg = z},
        .default_lifetime = tight ? 60 : 600,
        .max_lifetime = tight ? 120 : 3600,
        .max_permissions = tight ? 2 : 8,
        .max_channels = tight ? 2 : 8,
        .rfc5766_channels = flags & 0x08,
        .alternates = &g_alternate,
        .n_alternates = 1,
    };

    z->ipv6 = (flags & 0x04) || (flags & 3) == 3;
    z->flaky_open = flags & 0x40;
    z->now = (struct turn_clock){.mono = 1000, .wall = 1700000000};
    if (turn_quota_new(&z->quota, quota_total[(flags >> 4) & 3], quota_user[(flags >> 4) & 3])) {
        return -ENOMEM;
    }
    cfg.quota = z->quota;
    return turn_server_new(&z->srv, &cfg);
}

/* The way a client starts: an unauthenticated Allocate, whose 401 must
 * carry a NONCE and our PASSWORD-ALGORITHMS. */
static void challenge(struct fz *z, unsigned t)
{
    uint8_t buf[64], reply_buf[TURN_REPLY_MAX];
    const uint8_t tid[STUN_TID_LEN] = {0xc4, 0xa1};
    struct turn_reply reply = {.buf = reply_buf, .len = 0};
    struct turn_forward fwd;
    struct stun_builder b;
    struct stun_msg msg;
    const struct stun_attr *nonce, *algs;
    int code, n;
    const char *reason;
    size_t reason_len;

    stun_build_start(&b, buf, sizeof(buf), TURN_ALLOCATE, STUN_REQUEST, tid);
    stun_build_u32(&b, STUN_ATTR_REQUESTED_TRANSPORT, (uint32_t)FZ_PROTO_UDP << 24);
    n = stun_build_finish(&b);
    CHECK(n > 0);
    CHECK(turn_server_on_client(z->srv, &tuples[t], buf, (size_t)n, z->now, &reply, &fwd) ==
          TURN_REPLY);
    CHECK(stun_msg_decode(&msg, reply.buf, reply.len) == 0);
    CHECK(stun_msg_get_error(&msg, &code, &reason, &reason_len) == 0 && code == 401);
    nonce = stun_msg_find(&msg, STUN_ATTR_NONCE);
    algs = stun_msg_find(&msg, STUN_ATTR_PASSWORD_ALGORITHMS);
    CHECK(nonce && nonce->len > 0 && nonce->len <= TURN_NONCE_MAX);
    CHECK(algs && algs->len == g_pw_algs_len);
    CHECK(memcmp(stun_attr_value(&msg, algs), g_pw_algs, g_pw_algs_len) == 0);
}

/* Allocate, CreatePermission and ChannelBind 0x4000 for client t, as a
 * real client does, so that fuzzed data meets a live allocation. */
static void setup_client(struct fz *z, unsigned t, bool must_succeed)
{
    /* body: method | pick (peer 0 = 127.0.0.1:9000 or 9 = [2606:4700::1]) */
    uint8_t peer = tuples[t].client.sa.sa_family == AF_INET6 ? 9 : 0;
    const uint8_t allocate_v4[] = {0x00, 0}, allocate_v6[] = {0x00, 0, 0x00, 0x17, 4, 2, 0, 0, 0};
    const uint8_t permit[] = {0x02, peer}, bind[] = {0x03, peer};
    bool v6 = t == 3;
    size_t before = z->live;

    challenge(z, t);
    signed_request(z, t, v6 ? allocate_v6 : allocate_v4,
                   v6 ? sizeof(allocate_v6) : sizeof(allocate_v4), true);
    if (must_succeed) {
        CHECK(z->live == before + 1);
    }
    signed_request(z, t, permit, sizeof(permit), true);
    signed_request(z, t, bind, sizeof(bind), true);
}

static void setup(struct fz *z, uint8_t flags)
{
    static const unsigned clients[] = {0, 2, 3};
    bool quota = (flags >> 4) & 3;

    for (unsigned i = 0; i < (flags & 3u); i++) {
        setup_client(z, clients[i], !quota);
    }
    z->setup_done = true;
}

/* ---- entry points ---- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const users[] = {FZ_USER ":" FZ_PASS};
    static const char *const secrets[] = {FZ_SECRET};
    const struct turn_auth_config ac = {
        .realm = FZ_REALM,
        .users = users,
        .n_users = 1,
        .secrets = secrets,
        .n_secrets = 1,
        .nonce_lifetime = 600,
    };
    uint8_t buf[TURN_REPLY_MAX];
    const uint8_t tid[STUN_TID_LEN] = {0};
    union turn_addr self = parse_addr("127.0.0.1:0");
    struct stun_builder b;
    struct stun_msg msg;
    const struct stun_attr *algs;
    int n;

    g_alternate = parse_addr("192.0.2.10:3478");
    if (turn_auth_new(&g_auth, &ac) || turn_policy_new(&g_policy) ||
        turn_policy_add_rule(g_policy, "127.0.0.0/8", true) ||
        turn_policy_add_self(g_policy, &self) || turn_policy_add_self_port(g_policy, 3478)) {
        abort();
    }
    turn_policy_set_relay_ports(g_policy, FZ_RELAY_PORT, FZ_RELAY_PORT + FZ_MAX_RELAYS - 1);
    /* our PASSWORD-ALGORITHMS, as a 401 carries them */
    stun_build_start(&b, buf, sizeof(buf), TURN_ALLOCATE, STUN_ERROR, tid);
    turn_auth_build_challenge(g_auth, &b, &self, 1700000000);
    n = stun_build_finish(&b);
    if (n < 0 || stun_msg_decode(&msg, buf, (size_t)n) < 0 ||
        !(algs = stun_msg_find(&msg, STUN_ATTR_PASSWORD_ALGORITHMS)) ||
        algs->len > sizeof(g_pw_algs)) {
        abort();
    }
    g_pw_algs_len = algs->len;
    memcpy(g_pw_algs, stun_attr_value(&msg, algs), algs->len);
    for (size_t i = 0; i < FZ_N(tuples); i++) {
        tuples[i].client = parse_addr(tuple_specs[i].client);
        tuples[i].server = parse_addr(tuple_specs[i].server);
        tuples[i].transport = (uint8_t)tuple_specs[i].transport;
        tuples[i].conn = &conns[i];
    }
    for (size_t i = 0; i < FZ_N(peers); i++) {
        peers[i] = parse_addr(peer_specs[i]);
    }
    return 0;
}

static void run_record(struct fz *z, uint8_t op, const uint8_t *body, size_t len)
{
    unsigned arg = op >> 3;

    switch (op & 7) {
    case 0:
        client_send(z, arg, body, len, NULL, 0, 0);
        break;
    case 1:
    case 2:
        signed_request(z, arg, body, len, (op & 7) == 2);
        break;
    case 3:
        channel_data(z, arg, body, len);
        break;
    case 4:
        send_indication(z, arg, body, len);
        break;
    case 5:
        peer_datagram(z, body, len);
        break;
    case 6:
        advance(z, arg);
        break;
    default:
        turn_server_conn_closed(z->srv, &tuples[arg % FZ_N(tuples)], z->now.mono);
        check_counts(z);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz z;
    size_t pos = 1;

    if (size < 1) {
        return 0;
    }
    memset(&z, 0, sizeof(z));
    if (start_server(&z, data[0]) < 0) {
        turn_quota_free(z.quota);
        return 0;
    }
    setup(&z, data[0]);
    for (unsigned n = 0; n < FZ_MAX_RECORDS && pos + 3 <= size; n++) {
        uint8_t op = data[pos];
        size_t len = (size_t)data[pos + 1] << 8 | data[pos + 2];

        pos += 3;
        if (len > size - pos) {
            len = size - pos;
        }
        run_record(&z, op, data + pos, len);
        pos += len;
    }
    turn_server_free(z.srv);
    CHECK(z.live == 0 && z.opens_ok == z.closes);
    CHECK(turn_quota_in_use(z.quota) == 0);
    turn_quota_free(z.quota);
    return 0;
}
