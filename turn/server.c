/* TURN server core: demultiplexing, authentication, replies, and the two
 * data paths (client to peer, peer to client). RFC 8489, RFC 8656. */
#include "server_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

int turn_server_new(struct turn_server **out, const struct turn_server_config *cfg)
{
    /* calloc guarantees 16 bytes; the counters are aligned to 64 */
    struct turn_server *s = aligned_alloc(_Alignof(struct turn_server), sizeof(*s));

    if (!s) {
        return -ENOMEM;
    }
    memset(s, 0, sizeof(*s));
    s->cfg = *cfg;
    if (turn_alloc_table_new(&s->table) < 0) {
        free(s);
        return -ENOMEM;
    }
    if (turn_siphash_key_random(&s->indication_key) < 0) {
        turn_alloc_table_free(s->table);
        free(s);
        return -EIO;
    }
    *out = s;
    return 0;
}

struct sweep {
    struct turn_server *server;
    uint64_t now;
};

static void release_cb(struct turn_alloc *alloc, void *arg)
{
    struct sweep *sw = arg;

    server_release(sw->server, alloc, sw->now);
}

void turn_server_free(struct turn_server *server)
{
    if (!server) {
        return;
    }
    struct sweep sw = {server, 0};
    struct turn_alloc_counts counts;

    turn_alloc_sweep(server->table, UINT64_MAX, release_cb, &sw, &counts);
    turn_alloc_table_free(server->table);
    turn_siphash_key_clear(&server->indication_key);
    free(server);
}

/* Verdicts of the new policy on what is already installed. */
static bool perm_ok_cb(const union turn_addr *ip, void *arg)
{
    return turn_policy_ip_allowed(arg, ip);
}

static bool chan_ok_cb(struct turn_channel *chan, void *arg)
{
    chan->relay_peer = turn_policy_relay_peer(arg, &chan->peer);
    return turn_policy_allowed(arg, &chan->peer);
}

void turn_server_set_rules(struct turn_server *server, const struct turn_auth *auth,
                           const struct turn_policy *policy, uint64_t now_mono)
{
    void *arg = (void *)policy; /* the callbacks only read it */

    server->cfg.auth = auth;
    server->cfg.policy = policy;
    for (struct turn_alloc *a = turn_alloc_table_first(server->table); a; a = a->next) {
        server->stats.peers_revoked += turn_alloc_revoke(a, now_mono, perm_ok_cb, chan_ok_cb, arg);
    }
}

void turn_server_set_limits(struct turn_server *server, const struct turn_server_config *cfg)
{
    server->cfg.default_lifetime = cfg->default_lifetime;
    server->cfg.max_lifetime = cfg->max_lifetime;
    server->cfg.max_permissions = cfg->max_permissions;
    server->cfg.max_channels = cfg->max_channels;
    server->cfg.max_bps = cfg->max_bps;
    server->cfg.rfc5766_channels = cfg->rfc5766_channels;
    server->cfg.alternates = cfg->alternates;
    server->cfg.n_alternates = cfg->n_alternates;
}

void turn_server_set_draining(struct turn_server *server, bool draining)
{
    server->draining = draining;
}

struct turn_stats *turn_server_stats(struct turn_server *server)
{
    return &server->stats;
}

size_t turn_server_allocations(const struct turn_server *server)
{
    return turn_alloc_table_count(server->table);
}

void server_release(struct turn_server *server, struct turn_alloc *alloc, uint64_t now)
{
    if (alloc->expires && now >= alloc->created) { /* granted, not a failed Allocate */
        turn_stats_lifetime(&server->stats, now - alloc->created);
    }
    if (alloc->relay) {
        server->cfg.ops.close(server->cfg.ops.arg, alloc->relay);
    }
    turn_quota_release(server->cfg.quota, alloc->user_hash);
    turn_alloc_remove(server->table, alloc);
    server->stats.allocations_active--;
}

void turn_server_tick(struct turn_server *server, uint64_t now_mono)
{
    struct sweep sw = {server, now_mono};
    struct turn_alloc_counts counts;

    turn_alloc_sweep(server->table, now_mono, release_cb, &sw, &counts);
    server->stats.permissions_active = counts.permissions;
    server->stats.channels_active = counts.channels;
}

bool turn_server_has_allocation(const struct turn_server *server, const struct turn_tuple *tuple)
{
    return turn_alloc_find(server->table, tuple) != NULL;
}

void turn_server_conn_closed(struct turn_server *server, const struct turn_tuple *tuple,
                             uint64_t now_mono)
{
    struct turn_alloc *alloc = turn_alloc_find(server->table, tuple);

    if (alloc) {
        server_release(server, alloc, now_mono);
    }
}

/* ---- replies ---- */

void reply_success(struct request *req)
{
    stun_build_start(&req->b, req->reply->buf, TURN_REPLY_MAX, req->msg->method, STUN_SUCCESS,
                     req->msg->tid);
}

enum turn_verdict reply_finish(struct request *req)
{
    const struct turn_auth_result *auth = req->auth;
    int len;

    if (auth && auth->key_len) {
        stun_build_integrity(&req->b, auth->integrity_attr, auth->key, auth->key_len);
    }
    if (stun_msg_find(req->msg, STUN_ATTR_FINGERPRINT)) {
        stun_build_fingerprint(&req->b);
    }
    len = stun_build_finish(&req->b);
    if (len < 0) {
        return TURN_DROP;
    }
    req->reply->len = (size_t)len;
    return TURN_REPLY;
}

/* An answer to a request that is not authenticated costs the sender
 * nothing and may be aimed at a forged UDP source: limit it per prefix. */
static bool unauth_answer_allowed(struct request *req)
{
    struct turn_server *s = req->server;

    if ((req->auth && req->auth->key_len) || req->tuple->transport != TURN_TRANSPORT_UDP ||
        !s->cfg.unauth_limit ||
        turn_ratelimit_allow(s->cfg.unauth_limit, &req->tuple->client, req->now.mono)) {
        return true;
    }
    s->stats.rate_limited++;
    return false;
}

/* Starts an error response with this code, unless the answer is
 * rate-limited (then false: nothing to send). A challenge (401, 438) has an
 * empty reason phrase (RFC 8489 14.8 allows any): it is the one answer a
 * forged Allocate can draw, so every byte of it counts against the 4x
 * bound (see challenge_fits). */
static bool error_start(struct request *req, int code)
{
    const struct stun_msg *msg = req->msg;

    if (!unauth_answer_allowed(req)) {
        return false;
    }
    turn_stats_error(&req->server->stats, code);
    stun_build_start(&req->b, req->reply->buf, TURN_REPLY_MAX, msg->method, STUN_ERROR, msg->tid);
    stun_build_error_reason(&req->b, code, code == 401 || code == 438 ? "" : stun_reason(code));
    return true;
}

/* No reflection gain: a challenge is sent only when it is at most
 * TURN_UNAUTH_GAIN times the request. Every real client's Allocate (28
 * bytes with REQUESTED-TRANSPORT) passes with any realm the configuration
 * accepts (turn/auth.c asserts it); a bare 20-byte request does not. */
static bool challenge_fits(const struct request *req)
{
    size_t len = STUN_HEADER_LEN + 8 + turn_auth_challenge_len(req->server->cfg.auth);

    if (stun_msg_find(req->msg, STUN_ATTR_FINGERPRINT)) {
        len += 8;
    }
    return len <= TURN_UNAUTH_GAIN * req->msg->len;
}

enum turn_verdict reply_error(struct request *req, int code)
{
    const struct stun_msg *msg = req->msg;

    if ((code == 401 || code == 438) && !challenge_fits(req)) {
        code = 400;
    }
    if (!error_start(req, code)) {
        return TURN_DROP;
    }
    if (code == 420) {
        stun_build_unknown(&req->b, msg->unknown, msg->n_unknown);
    } else if (code == 401 || code == 438) {
        /* RFC 8489 9.2.4: a challenge carries no integrity */
        turn_auth_build_challenge(req->server->cfg.auth, &req->b, &req->tuple->client,
                                  req->now.wall);
        req->auth = NULL;
    }
    return reply_finish(req);
}

/* Draining: a new Allocate goes to the first alternate server of the
 * client's address family (RFC 8489 10, 14.15), before any challenge and
 * without REALM or NONCE, so that the client starts afresh there (browsers
 * carry a NONCE from a 300 over to the alternate, which would not know it).
 * Returns NULL when the request is not redirected. */
static const union turn_addr *alternate_for(const struct request *req,
                                            const struct turn_alloc *alloc)
{
    const struct turn_server *s = req->server;

    if (!s->draining || req->msg->method != TURN_ALLOCATE || alloc) {
        return NULL;
    }
    for (size_t i = 0; i < s->cfg.n_alternates; i++) {
        if (s->cfg.alternates[i].sa.sa_family == req->tuple->client.sa.sa_family) {
            return &s->cfg.alternates[i];
        }
    }
    return NULL;
}

static enum turn_verdict reply_alternate(struct request *req, const union turn_addr *alt)
{
    if (!error_start(req, 300)) {
        return TURN_DROP;
    }
    stun_build_addr(&req->b, STUN_ATTR_ALTERNATE_SERVER, alt);
    return reply_finish(req);
}

/* Bandwidth per allocation (max-bps): a byte budget per second of the
 * monotonic clock, both directions together. Returns false to drop. */
static bool within_bandwidth(struct turn_server *s, struct turn_alloc *alloc, size_t len,
                             uint64_t now)
{
    uint64_t budget = s->cfg.max_bps / 8;

    if (!budget) {
        return true;
    }
    if (alloc->bw_second != now) {
        alloc->bw_second = now;
        alloc->bw_bytes = 0;
    }
    if (alloc->bw_bytes + len > budget) {
        s->stats.dropped[TURN_DROP_BANDWIDTH]++;
        return false;
    }
    alloc->bw_bytes += (uint32_t)len;
    return true;
}

/* A channel to one of our relay addresses is good only while that relay
 * port is held: the allocation behind it may end at any time, on any
 * worker. Other channels pass with one flag test. Returns false to drop. */
static bool relay_peer_held(struct turn_server *s, const struct turn_channel *chan)
{
    if (!chan->relay_peer || turn_policy_relay_held(s->cfg.policy, &chan->peer)) {
        return true;
    }
    s->stats.dropped[TURN_DROP_POLICY]++;
    s->stats.peers_refused++;
    return false;
}

/* ---- client to server ---- */

static enum turn_verdict on_binding(struct request *req)
{
    req->server->stats.binding_requests++;
    if (!unauth_answer_allowed(req)) {
        return TURN_DROP;
    }
    reply_success(req);
    stun_build_xaddr(&req->b, STUN_ATTR_XOR_MAPPED_ADDRESS, &req->tuple->client);
    return reply_finish(req);
}

/* on_request lets Refresh, CreatePermission and ChannelBind through only
 * with an allocation. */
static enum turn_verdict dispatch(struct request *req, struct turn_alloc *alloc)
{
    if (alloc && (req->auth->key_len != alloc->key_len ||
                  CRYPTO_memcmp(req->auth->key, alloc->key, alloc->key_len) != 0)) {
        return reply_error(req, 441); /* RFC 8656 5: same credentials as the allocation */
    }
    switch (req->msg->method) {
    case TURN_ALLOCATE:
        return handle_allocate(req, alloc);
    case TURN_REFRESH:
        return handle_refresh(req, alloc);
    case TURN_CREATE_PERMISSION:
        return handle_create_permission(req, alloc);
    case TURN_CHANNEL_BIND:
        return handle_channel_bind(req, alloc);
    default:
        return reply_error(req, 400);
    }
}

/* Checks the credentials (a few HMACs), credits the sender's prefix when
 * they pass, then dispatches. */
static enum turn_verdict authenticate(struct request *req, struct turn_alloc *alloc)
{
    struct turn_server *s = req->server;
    struct turn_auth_result auth;
    enum turn_verdict v;

    turn_auth_check(s->cfg.auth, req->msg, &req->tuple->client, req->now.wall, &auth);
    s->stats.auth_key_tries += auth.tries;
    if (auth.code) {
        return reply_error(req, auth.code);
    }
    if (s->cfg.unauth_limit) {
        /* it received our nonce: its prefix earns answers */
        turn_ratelimit_credit(s->cfg.unauth_limit, &req->tuple->client, req->now.mono);
    }
    req->auth = &auth;
    v = dispatch(req, alloc);
    OPENSSL_cleanse(auth.key, sizeof(auth.key));
    return v;
}

/* Everything cheap comes first, so that a request costs HMACs only when it
 * could lead somewhere: oversized requests and requests other than
 * Allocate from a tuple without an allocation are dropped (no client sends
 * them; an answer would only feed a reflection), an Allocate without
 * REQUESTED-TRANSPORT gets a short 400 instead of a challenge. */
static enum turn_verdict on_request(struct request *req)
{
    struct turn_server *s = req->server;
    struct turn_alloc *alloc = turn_alloc_find(s->table, req->tuple);
    const union turn_addr *alternate;

    s->stats.requests++;
    if (!alloc && req->msg->len > TURN_UNALLOCATED_REQUEST_MAX) {
        s->stats.dropped[TURN_DROP_OVERSIZED]++;
        return TURN_DROP;
    }
    if (req->msg->n_unknown) {
        return reply_error(req, 420);
    }
    switch (req->msg->method) {
    case STUN_BINDING:
        return on_binding(req);
    case TURN_ALLOCATE:
        break;
    case TURN_REFRESH:
    case TURN_CREATE_PERMISSION:
    case TURN_CHANNEL_BIND:
        if (!alloc) {
            s->stats.dropped[TURN_DROP_NO_ALLOCATION]++;
            return TURN_DROP;
        }
        break;
    default:
        return reply_error(req, 400);
    }
    if ((alternate = alternate_for(req, alloc))) {
        return reply_alternate(req, alternate);
    }
    if (req->msg->method == TURN_ALLOCATE &&
        !stun_msg_find(req->msg, STUN_ATTR_REQUESTED_TRANSPORT)) {
        return reply_error(req, 400); /* RFC 8656 7.2; checked before any HMAC */
    }
    return authenticate(req, alloc);
}

/* Send indication (RFC 8656 11.2): unauthenticated, dropped silently when
 * anything is missing or not permitted. */
static enum turn_verdict on_send(struct turn_server *s, const struct turn_tuple *tuple,
                                 const struct stun_msg *msg, uint64_t now, struct turn_forward *fwd)
{
    struct turn_alloc *alloc = turn_alloc_find(s->table, tuple);
    const struct stun_attr *data = stun_msg_find(msg, STUN_ATTR_DATA);

    if (!alloc) {
        s->stats.dropped[TURN_DROP_NO_ALLOCATION]++;
        return TURN_DROP;
    }
    if (!data || stun_msg_get_xaddr(msg, STUN_ATTR_XOR_PEER_ADDRESS, &fwd->peer) < 0) {
        s->stats.dropped[TURN_DROP_MALFORMED]++;
        return TURN_DROP;
    }
    turn_addr_canonical(&fwd->peer);
    if (!turn_alloc_permitted(alloc, &fwd->peer, now)) {
        s->stats.dropped[TURN_DROP_NO_PERMISSION]++;
        return TURN_DROP;
    }
    if (!turn_policy_allowed(s->cfg.policy, &fwd->peer)) {
        s->stats.dropped[TURN_DROP_POLICY]++;
        s->stats.peers_refused++;
        return TURN_DROP;
    }
    if (!within_bandwidth(s, alloc, data->len, now)) {
        return TURN_DROP;
    }
    fwd->relay = alloc->relay;
    fwd->data = stun_attr_value(msg, data);
    fwd->len = data->len;
    return TURN_FORWARD;
}

static enum turn_verdict on_stun(struct turn_server *s, const struct turn_tuple *tuple,
                                 const uint8_t *pkt, size_t len, struct turn_clock now,
                                 struct turn_reply *reply, struct turn_forward *fwd)
{
    struct stun_msg msg;
    struct request req = {.server = s, .tuple = tuple, .msg = &msg, .now = now, .reply = reply};

    if (stun_msg_decode(&msg, pkt, len) < 0) {
        s->stats.dropped[TURN_DROP_MALFORMED]++;
        return TURN_DROP;
    }
    if (msg.cls == STUN_REQUEST) {
        return on_request(&req);
    }
    if (msg.cls == STUN_INDICATION && msg.method == TURN_SEND) {
        return on_send(s, tuple, &msg, now.mono, fwd);
    }
    s->stats.dropped[TURN_DROP_UNEXPECTED]++;
    return TURN_DROP;
}

/* ChannelData from the client (RFC 8656 12.6): the hot path. */
static enum turn_verdict on_channel_data(struct turn_server *s, const struct turn_tuple *tuple,
                                         const uint8_t *pkt, size_t len, uint64_t now,
                                         struct turn_forward *fwd)
{
    uint16_t number, payload_len;
    size_t frame_len;
    const struct turn_channel *chan;
    struct turn_alloc *alloc;

    if (turn_channel_decode(pkt, len, tuple->transport != TURN_TRANSPORT_UDP, &number, &payload_len,
                            &frame_len) < 0) {
        s->stats.dropped[TURN_DROP_MALFORMED]++;
        return TURN_DROP;
    }
    alloc = turn_alloc_find(s->table, tuple);
    if (!alloc) {
        s->stats.dropped[TURN_DROP_NO_ALLOCATION]++;
        return TURN_DROP;
    }
    chan = turn_alloc_channel(alloc, number, now);
    if (!chan || !turn_alloc_permitted(alloc, &chan->peer, now)) {
        s->stats.dropped[TURN_DROP_NO_PERMISSION]++;
        return TURN_DROP;
    }
    if (!relay_peer_held(s, chan)) {
        return TURN_DROP;
    }
    if (!within_bandwidth(s, alloc, payload_len, now)) {
        return TURN_DROP;
    }
    fwd->relay = alloc->relay;
    fwd->peer = chan->peer;
    fwd->data = pkt + TURN_CHANNEL_HEADER_LEN;
    fwd->len = payload_len;
    return TURN_FORWARD;
}

enum turn_verdict turn_server_on_client(struct turn_server *server, const struct turn_tuple *tuple,
                                        const uint8_t *pkt, size_t len, struct turn_clock now,
                                        struct turn_reply *reply, struct turn_forward *fwd)
{
    enum turn_verdict v;

    switch (stun_classify(pkt, len, server->cfg.rfc5766_channels)) {
    case STUN_PKT_CHANNEL_DATA:
        v = on_channel_data(server, tuple, pkt, len, now.mono, fwd);
        break;
    case STUN_PKT_STUN:
        v = on_stun(server, tuple, pkt, len, now, reply, fwd);
        break;
    default:
        server->stats.dropped[TURN_DROP_MALFORMED]++;
        return TURN_DROP;
    }
    if (v == TURN_FORWARD) {
        server->stats.packets[TURN_DIR_TO_PEER][tuple->transport]++;
        server->stats.bytes[TURN_DIR_TO_PEER][tuple->transport] += fwd->len;
    }
    return v;
}

/* ---- peer to client ---- */

/* Writes a Data indication header in front of the payload (RFC 8656 11.3):
 * STUN header, XOR-PEER-ADDRESS, DATA attribute header; pads the payload. */
static void frame_data_indication(struct turn_server *s, const union turn_addr *peer,
                                  uint8_t **data, size_t *len)
{
    uint8_t tid[16];
    size_t hdr_len = STUN_HEADER_LEN + 4 + 4 + turn_addr_ip_size(peer) + 4;
    size_t pad = (4 - (*len & 3)) & 3;
    size_t body = hdr_len - STUN_HEADER_LEN + *len + pad;
    uint8_t *start = *data - hdr_len;
    struct stun_builder b;

    /* the first 12 bytes of a PRF of the worker's count: as unique as the
     * count, and the ids a client sees tell nothing of the packets other
     * clients got in between */
    s->indication_seq++;
    turn_siphash24_128(&s->indication_key, &s->indication_seq, sizeof(s->indication_seq), tid);
    stun_build_start(&b, start, hdr_len, TURN_DATA, STUN_INDICATION, tid);
    stun_build_xaddr(&b, STUN_ATTR_XOR_PEER_ADDRESS, peer);
    /* the DATA value is already in place: write only its header */
    start[hdr_len - 4] = STUN_ATTR_DATA >> 8;
    start[hdr_len - 3] = STUN_ATTR_DATA & 0xff;
    start[hdr_len - 2] = (uint8_t)(*len >> 8);
    start[hdr_len - 1] = (uint8_t)*len;
    memset(*data + *len, 0, pad);
    start[2] = (uint8_t)(body >> 8);
    start[3] = (uint8_t)body;
    *data = start;
    *len = hdr_len + *len + pad;
}

/* ChannelData header in front of the payload; stream transports pad to 4. */
static void frame_channel_data(uint16_t number, bool stream, uint8_t **data, size_t *len)
{
    size_t pad = stream ? (4 - (*len & 3)) & 3 : 0;

    *data -= TURN_CHANNEL_HEADER_LEN;
    turn_channel_header(*data, number, (uint16_t)*len);
    memset(*data + TURN_CHANNEL_HEADER_LEN + *len, 0, pad);
    *len += TURN_CHANNEL_HEADER_LEN + pad;
}

enum turn_verdict turn_server_on_peer(struct turn_server *server, struct turn_alloc *alloc,
                                      const union turn_addr *peer, uint8_t **data, size_t *len,
                                      uint64_t now_mono)
{
    const struct turn_channel *chan;
    size_t payload = *len;

    if (payload > 0xffff - TURN_HEADROOM) {
        server->stats.dropped[TURN_DROP_MALFORMED]++; /* cannot be framed in STUN */
        return TURN_DROP;
    }
    if (!turn_alloc_permitted(alloc, peer, now_mono)) {
        server->stats.dropped[TURN_DROP_NO_PERMISSION]++;
        return TURN_DROP;
    }
    if (!within_bandwidth(server, alloc, payload, now_mono)) {
        return TURN_DROP;
    }
    chan = turn_alloc_channel_to(alloc, peer, now_mono);
    if (chan && !relay_peer_held(server, chan)) {
        return TURN_DROP;
    }
    if (chan) {
        /* policy was checked when the channel was bound to this exact peer
         * (and again on every rules change) */
        frame_channel_data(chan->number, alloc->tuple.transport != TURN_TRANSPORT_UDP, data, len);
    } else if (turn_policy_allowed(server->cfg.policy, peer)) {
        frame_data_indication(server, peer, data, len);
    } else {
        server->stats.dropped[TURN_DROP_POLICY]++;
        server->stats.peers_refused++;
        return TURN_DROP;
    }
    server->stats.packets[TURN_DIR_TO_CLIENT][alloc->tuple.transport]++;
    server->stats.bytes[TURN_DIR_TO_CLIENT][alloc->tuple.transport] += payload;
    return TURN_FORWARD;
}
