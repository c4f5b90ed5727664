/* The four authenticated TURN requests: Allocate, Refresh,
 * CreatePermission, ChannelBind (RFC 8656 7, 8, 10, 12). */
#include "server_internal.h"

#include <errno.h>
#include <string.h>

#define PROTO_UDP 17
#define FAMILY_IPV4 0x01
#define FAMILY_IPV6 0x02

static int family_of(uint8_t wire)
{
    return wire == FAMILY_IPV6 ? AF_INET6 : AF_INET;
}

/* LIFETIME for a new allocation: the request's, clamped between the
 * default and the maximum (RFC 8656 7.2). */
static uint32_t allocate_lifetime(const struct request *req)
{
    const struct turn_server_config *cfg = &req->server->cfg;
    uint32_t lifetime;

    if (stun_msg_get_u32(req->msg, STUN_ATTR_LIFETIME, &lifetime) < 0 ||
        lifetime < cfg->default_lifetime) {
        return cfg->default_lifetime;
    }
    return lifetime > cfg->max_lifetime ? cfg->max_lifetime : lifetime;
}

/* ADDRESS-ERROR-CODE (RFC 8656 18.12): the additional family is refused. */
static void build_address_error(struct stun_builder *b, uint8_t family, int code)
{
    const char *reason = stun_reason(code);
    uint8_t value[4 + 64] = {family, 0, (uint8_t)(code / 100), (uint8_t)(code % 100)};
    size_t n = strlen(reason);

    if (n > 64) {
        n = 64;
    }
    memcpy(value + 4, reason, n);
    stun_build_attr(b, STUN_ATTR_ADDRESS_ERROR_CODE, value, 4 + n);
}

static enum turn_verdict allocate_success(struct request *req, const struct turn_alloc *alloc)
{
    uint64_t left = alloc->expires > req->now.mono ? alloc->expires - req->now.mono : 0;

    reply_success(req);
    stun_build_xaddr(&req->b, STUN_ATTR_XOR_RELAYED_ADDRESS, &alloc->relayed);
    stun_build_u32(&req->b, STUN_ATTR_LIFETIME, (uint32_t)left);
    stun_build_xaddr(&req->b, STUN_ATTR_XOR_MAPPED_ADDRESS, &req->tuple->client);
    if (alloc->has_token) {
        stun_build_attr(&req->b, STUN_ATTR_RESERVATION_TOKEN, alloc->token, TURN_TOKEN_LEN);
    }
    if (stun_msg_find(req->msg, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY)) {
        /* dual allocations are not offered: the IPv4 relay is granted alone */
        build_address_error(&req->b, FAMILY_IPV6, 440);
    }
    return reply_finish(req);
}

/* Checks the family attributes of an Allocate. Returns 0 with *family set,
 * or a STUN error code. */
static int allocate_family(const struct stun_msg *msg, int *family)
{
    uint8_t requested = FAMILY_IPV4, additional;
    bool has_requested = false;
    int err;

    err = stun_msg_get_family(msg, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, &requested);
    if (err == -EBADMSG) {
        return 400;
    }
    has_requested = err == 0;
    if (has_requested && requested != FAMILY_IPV4 && requested != FAMILY_IPV6) {
        return 440;
    }
    err = stun_msg_get_family(msg, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, &additional);
    if (err == -EBADMSG || (err == 0 && (has_requested || additional != FAMILY_IPV6))) {
        return 400; /* RFC 8656 7.2: only IPv6, and never with REQUESTED-ADDRESS-FAMILY */
    }
    *family = family_of(requested);
    return 0;
}

/* Checks the port attributes of an Allocate (RFC 8656 7.2): EVEN-PORT and
 * RESERVATION-TOKEN exclude each other; a token must be 8 bytes. Returns 0
 * with rr filled, or a STUN error code. */
static int allocate_port_request(const struct stun_msg *msg, struct turn_relay_request *rr)
{
    const struct stun_attr *token = stun_msg_find(msg, STUN_ATTR_RESERVATION_TOKEN);
    bool reserve;
    int err = stun_msg_get_even_port(msg, &reserve);

    if (err == -EBADMSG || (token && err == 0)) {
        return 400;
    }
    if (token) {
        /* RFC 8656 7.2: the token names a port of a family already chosen */
        if (token->len != TURN_TOKEN_LEN ||
            stun_msg_find(msg, STUN_ATTR_REQUESTED_ADDRESS_FAMILY)) {
            return 400;
        }
        rr->token = stun_attr_value(msg, token);
    }
    if (err == 0) {
        rr->flags |= TURN_RELAY_EVEN_PORT | (reserve ? TURN_RELAY_RESERVE_NEXT : 0);
    }
    if (stun_msg_find(msg, STUN_ATTR_DONT_FRAGMENT)) {
        rr->flags |= TURN_RELAY_DONT_FRAGMENT;
    }
    return 0;
}

static enum turn_alloc_fail alloc_fail_reason(int err)
{
    switch (err) {
    case -EMFILE:
    case -ENFILE:
        return TURN_ALLOC_FAIL_FDS;
    case -EADDRINUSE:
        return TURN_ALLOC_FAIL_PORTS;
    default:
        return TURN_ALLOC_FAIL_OTHER;
    }
}

static int open_relay(struct request *req, struct turn_alloc *alloc, struct turn_relay_request *rr)
{
    const struct turn_relay_ops *ops = &req->server->cfg.ops;
    int err = ops->open(ops->arg, alloc, rr, &alloc->relay, &alloc->relayed);

    if (err == -EAFNOSUPPORT) {
        return 440;
    }
    if (err < 0) {
        req->server->stats.allocate_failures[alloc_fail_reason(err)]++;
        return 508;
    }
    return 0;
}

enum turn_verdict handle_allocate(struct request *req, struct turn_alloc *existing)
{
    struct turn_server *s = req->server;
    const struct turn_auth_result *auth = req->auth;
    uint8_t transport, user_hash[TURN_QUOTA_HASH_LEN];
    struct turn_relay_request rr = {0};
    int code;
    struct turn_alloc *alloc;

    if (existing) {
        /* RFC 8656 7.2: a retransmission gets the same answer */
        if (memcmp(existing->tid, req->msg->tid, STUN_TID_LEN) == 0) {
            return allocate_success(req, existing);
        }
        return reply_error(req, 437);
    }
    if (s->draining) {
        return reply_error(req, 508); /* no alternate server of its family */
    }
    if (stun_msg_get_transport(req->msg, &transport) < 0) {
        return reply_error(req, 400);
    }
    if (transport != PROTO_UDP) {
        return reply_error(req, 442);
    }
    code = allocate_family(req->msg, &rr.family);
    if (!code) {
        code = allocate_port_request(req->msg, &rr);
    }
    if (code) {
        return reply_error(req, code);
    }
    turn_quota_hash(s->cfg.quota, auth->rest, auth->quota_id, auth->quota_id_len, user_hash);
    if (turn_quota_take(s->cfg.quota, user_hash) < 0) {
        return reply_error(req, 486);
    }
    alloc = turn_alloc_add(s->table, req->tuple);
    if (!alloc) {
        turn_quota_release(s->cfg.quota, user_hash);
        s->stats.allocate_failures[TURN_ALLOC_FAIL_OTHER]++;
        return reply_error(req, 508);
    }
    memcpy(alloc->user_hash, user_hash, sizeof(user_hash));
    s->stats.allocations_active++;
    code = open_relay(req, alloc, &rr);
    if (code) {
        server_release(s, alloc, req->now.mono);
        return reply_error(req, code);
    }
    memcpy(alloc->tid, req->msg->tid, STUN_TID_LEN);
    memcpy(alloc->key, auth->key, auth->key_len);
    alloc->key_len = (uint8_t)auth->key_len;
    alloc->integrity_attr = auth->integrity_attr;
    alloc->created = req->now.mono;
    alloc->expires = req->now.mono + allocate_lifetime(req);
    s->stats.allocations_created++;
    if (rr.flags & TURN_RELAY_RESERVE_NEXT) {
        alloc->has_token = true;
        memcpy(alloc->token, rr.new_token, TURN_TOKEN_LEN);
    }
    return allocate_success(req, alloc);
}

enum turn_verdict handle_refresh(struct request *req, struct turn_alloc *alloc)
{
    const struct turn_server_config *cfg = &req->server->cfg;
    uint32_t lifetime = cfg->default_lifetime;
    uint8_t family;

    if (stun_msg_get_family(req->msg, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, &family) == 0 &&
        family_of(family) != alloc->relayed.sa.sa_family) {
        return reply_error(req, 443);
    }
    /* RFC 8656 8.2: min(requested, max), raised to the default; 0 deletes */
    if (stun_msg_get_u32(req->msg, STUN_ATTR_LIFETIME, &lifetime) == 0 && lifetime != 0) {
        lifetime = lifetime > cfg->max_lifetime ? cfg->max_lifetime : lifetime;
        lifetime = lifetime < cfg->default_lifetime ? cfg->default_lifetime : lifetime;
    }
    if (lifetime == 0) {
        server_release(req->server, alloc, req->now.mono);
    } else {
        alloc->expires = req->now.mono + lifetime;
    }
    reply_success(req);
    stun_build_u32(&req->b, STUN_ATTR_LIFETIME, lifetime);
    return reply_finish(req);
}

/* Reads, canonicalises and vets one XOR-PEER-ADDRESS. Returns 0 or a STUN
 * error code. */
static int check_peer(struct request *req, const struct turn_alloc *alloc,
                      const struct stun_attr *attr, union turn_addr *peer)
{
    if (stun_attr_get_xaddr(req->msg, attr, peer) < 0) {
        return 400;
    }
    turn_addr_canonical(peer);
    if (peer->sa.sa_family != alloc->relayed.sa.sa_family) {
        return 443;
    }
    if (!turn_policy_allowed(req->server->cfg.policy, peer)) {
        req->server->stats.peers_refused++;
        return 403;
    }
    return 0;
}

enum turn_verdict handle_create_permission(struct request *req, struct turn_alloc *alloc)
{
    const struct stun_msg *msg = req->msg;
    union turn_addr peers[STUN_MAX_ATTRS];
    unsigned n = 0;
    int code;

    /* all peers are vetted before any is installed: a request with one
     * refused peer is refused whole */
    for (unsigned i = 0; i < msg->n_attrs; i++) {
        if (msg->attrs[i].type != STUN_ATTR_XOR_PEER_ADDRESS) {
            continue;
        }
        code = check_peer(req, alloc, &msg->attrs[i], &peers[n++]);
        if (code) {
            return reply_error(req, code);
        }
    }
    if (n == 0) {
        return reply_error(req, 400);
    }
    if (turn_alloc_permit(alloc, peers, n, req->now.mono, req->server->cfg.max_permissions) < 0) {
        return reply_error(req, 508);
    }
    req->server->stats.permissions_created += n;
    reply_success(req);
    return reply_finish(req);
}

static bool channel_valid(const struct turn_server_config *cfg, uint16_t number)
{
    uint16_t max = cfg->rfc5766_channels ? TURN_CHANNEL_MAX_RFC5766 : TURN_CHANNEL_MAX;

    return number >= TURN_CHANNEL_MIN && number <= max;
}

enum turn_verdict handle_channel_bind(struct request *req, struct turn_alloc *alloc)
{
    const struct turn_server_config *cfg = &req->server->cfg;
    const struct stun_attr *attr = stun_msg_find(req->msg, STUN_ATTR_XOR_PEER_ADDRESS);
    struct turn_channel want = {0};
    int code, err;

    if (!attr || stun_msg_get_channel(req->msg, &want.number) < 0 ||
        !channel_valid(cfg, want.number)) {
        return reply_error(req, 400);
    }
    code = check_peer(req, alloc, attr, &want.peer);
    if (code) {
        return reply_error(req, code);
    }
    /* its verdict follows the held relay ports: checked again per packet */
    want.relay_peer = turn_policy_relay_peer(cfg->policy, &want.peer);
    /* checked first so that a refused request changes nothing */
    err = turn_alloc_bind_check(alloc, &want, req->now.mono, cfg->max_channels);
    if (err == -EEXIST) {
        return reply_error(req, 400);
    }
    if (err < 0 ||
        turn_alloc_permit(alloc, &want.peer, 1, req->now.mono, cfg->max_permissions) < 0 ||
        turn_alloc_bind(alloc, &want, req->now.mono, cfg->max_channels) < 0) {
        return reply_error(req, 508);
    }
    req->server->stats.channels_bound++;
    reply_success(req);
    return reply_finish(req);
}
