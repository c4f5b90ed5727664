/* TURN server core: demultiplexing, authentication, replies, and the two
 * data paths (client to peer, peer to client). RFC 8489, RFC 8656. */
#include "server_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

int turn_server_new(struct turn_server **out, const struct turn_server_config *cfg)
{
    struct turn_server *s = calloc(1, sizeof(*s));

    if (!s) {
        return -ENOMEM;
    }
    s->cfg = *cfg;
    if (turn_alloc_table_new(&s->table) < 0) {
        free(s);
        return -ENOMEM;
    }
    if (turn_ratelimit_new(&s->unauth_limit, cfg->unauth_rate) < 0) {
        turn_alloc_table_free(s->table);
        free(s);
        return -ENOMEM;
    }
    if (turn_siphash_key_random(&s->indication_key) < 0) {
        turn_ratelimit_free(s->unauth_limit);
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
    turn_ratelimit_free(server->unauth_limit);
    turn_siphash_key_clear(&server->indication_key);
    free(server);
}

void turn_server_set_rules(struct turn_server *server, const struct turn_auth *auth,
                           const struct turn_policy *policy)
{
    server->cfg.auth = auth;
    server->cfg.policy = policy;
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
        turn_ratelimit_allow(s->unauth_limit, &req->tuple->client, req->now.mono)) {
        return true;
    }
    s->stats.rate_limited++;
    return false;
}

/* Starts an error response with this code, unless the answer is
 * rate-limited (then false: nothing to send). */
static bool error_start(struct request *req, int code)
{
    const struct stun_msg *msg = req->msg;

    if (!unauth_answer_allowed(req)) {
        return false;
    }
    turn_stats_error(&req->server->stats, code);
    stun_build_start(&req->b, req->reply->buf, TURN_REPLY_MAX, msg->method, STUN_ERROR, msg->tid);
    stun_build_error(&req->b, code);
    return true;
}

enum turn_verdict reply_error(struct request *req, int code)
{
    const struct stun_msg *msg = req->msg;

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
static const union turn_addr *alternate_for(const struct request *req)
{
    const struct turn_server *s = req->server;

    if (!s->draining || req->msg->method != TURN_ALLOCATE ||
        turn_alloc_find(s->table, req->tuple)) {
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

static enum turn_verdict dispatch(struct request *req)
{
    struct turn_server *s = req->server;
    struct turn_alloc *alloc = turn_alloc_find(s->table, req->tuple);

    if (alloc && (req->auth->key_len != alloc->key_len ||
                  CRYPTO_memcmp(req->auth->key, alloc->key, alloc->key_len) != 0)) {
        return reply_error(req, 441); /* RFC 8656 5: same credentials as the allocation */
    }
    switch (req->msg->method) {
    case TURN_ALLOCATE:
        return handle_allocate(req, alloc);
    case TURN_REFRESH:
        return alloc ? handle_refresh(req, alloc) : reply_error(req, 437);
    case TURN_CREATE_PERMISSION:
        return alloc ? handle_create_permission(req, alloc) : reply_error(req, 437);
    case TURN_CHANNEL_BIND:
        return alloc ? handle_channel_bind(req, alloc) : reply_error(req, 437);
    default:
        return reply_error(req, 400);
    }
}

static enum turn_verdict on_request(struct request *req)
{
    struct turn_auth_result auth;
    const union turn_addr *alternate;

    req->server->stats.requests++;
    if (req->msg->n_unknown) {
        return reply_error(req, 420);
    }
    if (req->msg->method == STUN_BINDING) {
        return on_binding(req);
    }
    switch (req->msg->method) {
    case TURN_ALLOCATE:
    case TURN_REFRESH:
    case TURN_CREATE_PERMISSION:
    case TURN_CHANNEL_BIND:
        break;
    default:
        return reply_error(req, 400);
    }
    if ((alternate = alternate_for(req))) {
        return reply_alternate(req, alternate);
    }
    turn_auth_check(req->server->cfg.auth, req->msg, &req->tuple->client, req->now.wall, &auth);
    if (auth.code && req->msg->method != TURN_ALLOCATE &&
        !turn_alloc_find(req->server->table, req->tuple)) {
        /* no client sends these before it has an allocation: a challenge
         * would only feed a reflection */
        req->server->stats.dropped[TURN_DROP_NO_ALLOCATION]++;
        return TURN_DROP;
    }
    if (auth.code) {
        return reply_error(req, auth.code);
    }
    req->auth = &auth;
    enum turn_verdict v = dispatch(req);
    OPENSSL_cleanse(auth.key, sizeof(auth.key));
    return v;
}

/* Send indication (RFC 8656 10.2): unauthenticated, dropped silently when
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

/* ChannelData from the client (RFC 8656 12.5): the hot path. */
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

/* Writes a Data indication header in front of the payload (RFC 8656 11.4):
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
    if (chan) {
        /* policy was checked when the channel was bound to this exact peer */
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
