/* The TURN server logic of one worker (RFC 8489, RFC 8656), sans I/O:
 * packets and the time go in; replies, forwarding decisions and relay
 * socket requests come out. relay/ carries them out. */
#ifndef TURN_SERVER_H
#define TURN_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "auth.h"
#include "policy.h"
#include "quota.h"
#include "ratelimit.h"
#include "stats.h"

/* Room a caller leaves in front of a peer payload so that a Data indication
 * header (IPv6 peer) or a ChannelData header fits in place. */
#define TURN_HEADROOM 48
/* Room after it for the padding of a Data indication or stream ChannelData. */
#define TURN_TAILROOM 4
/* Replies are small: no reply exceeds this. */
#define TURN_REPLY_MAX 512
/* Requests longer than this from a tuple without an allocation are
 * dropped before any work (no client needs more to allocate). */
#define TURN_UNALLOCATED_REQUEST_MAX 4096
/* An answer to an unauthenticated request is at most this many times the
 * request (no reflection gain); a Binding answer at most 2x, but for the
 * 44-byte answer to a bare 20-byte IPv6 Binding. */
#define TURN_UNAUTH_GAIN 4

struct turn_clock {
    uint64_t mono; /* seconds, monotonic: lifetimes */
    uint64_t wall; /* seconds since 1970: nonces and REST expiry */
};

enum turn_relay_flags {
    TURN_RELAY_EVEN_PORT = 1 << 0,
    TURN_RELAY_DONT_FRAGMENT = 1 << 1,
    TURN_RELAY_RESERVE_NEXT = 1 << 2, /* EVEN-PORT with R: hold port + 1 */
};

/* What an Allocate asks of relay/. With token set, the socket is the one
 * reserved under that RESERVATION-TOKEN (RFC 8656 7.2); with
 * TURN_RELAY_RESERVE_NEXT, relay/ also reserves the next port and writes
 * the token that claims it into new_token. */
struct turn_relay_request {
    int family; /* AF_INET or AF_INET6 */
    unsigned flags;
    const uint8_t *token;
    uint8_t new_token[TURN_TOKEN_LEN];
};

/* What relay/ provides to open and close relay sockets. open binds a UDP
 * socket for alloc and keeps alloc to route peer packets; it writes the
 * address to advertise. Returns 0, -EAFNOSUPPORT (no relay address of that
 * family), -EADDRINUSE (no free port), -EMFILE or -ENFILE (no file
 * descriptor), -ENOENT (unknown or expired token) or another negative
 * errno; the server answers 508 and counts the reason. */
struct turn_relay_ops {
    int (*open)(void *arg, struct turn_alloc *alloc, struct turn_relay_request *req,
                struct turn_relay **relay, union turn_addr *advertised);
    void (*close)(void *arg, struct turn_relay *relay);
    void *arg;
};

struct turn_server_config {
    const struct turn_auth *auth;     /* borrowed, shared read-only */
    const struct turn_policy *policy; /* borrowed, shared read-only */
    struct turn_quota *quota;         /* borrowed, shared, locked inside */
    struct turn_relay_ops ops;
    uint32_t default_lifetime;
    uint32_t max_lifetime;
    uint32_t max_permissions;
    uint32_t max_channels;
    /* answers to unauthenticated UDP requests per source prefix, shared by
     * every worker; borrowed; NULL = no limit */
    struct turn_ratelimit *unauth_limit;
    uint64_t max_bps; /* relayed bits per second per allocation, both ways; 0 = off */
    bool rfc5766_channels;
    /* where new allocations are sent while draining (300 Try Alternate),
     * the first of the client's family; borrowed */
    const union turn_addr *alternates;
    size_t n_alternates;
};

struct turn_server;

/* Returns 0, -ENOMEM or -EIO (no randomness). cfg is copied. */
int turn_server_new(struct turn_server **out, const struct turn_server_config *cfg);
/* Closes every relay through ops and frees everything. Accepts NULL. */
void turn_server_free(struct turn_server *server);

/* Replaces the credentials and peer policy (both borrowed) for requests
 * from now on; allocations keep their keys, and the permissions and
 * channels the new policy refuses end at once (counted in peers_revoked). */
void turn_server_set_rules(struct turn_server *server, const struct turn_auth *auth,
                           const struct turn_policy *policy, uint64_t now_mono);

/* Replaces the limits (every field of cfg but auth, policy, quota and ops;
 * alternates stays borrowed) for what comes next: new allocations,
 * lifetimes granted from now on, permissions and channels beyond the new
 * caps, packets from now on. What exists keeps what it was granted. */
void turn_server_set_limits(struct turn_server *server, const struct turn_server_config *cfg);

/* Draining: allocations that exist carry on (refresh, permissions,
 * channels, data); a new Allocate gets 300 with an alternate server of the
 * client's family (unauthenticated, before any challenge), or 508 after
 * authentication when there is none. */
void turn_server_set_draining(struct turn_server *server, bool draining);

struct turn_stats *turn_server_stats(struct turn_server *server);
size_t turn_server_allocations(const struct turn_server *server);

enum turn_verdict {
    TURN_DROP,    /* nothing to send (counted) */
    TURN_REPLY,   /* send reply->len bytes of reply->buf back to the client */
    TURN_FORWARD, /* send fwd->data to fwd->peer from fwd->relay */
};

struct turn_reply {
    uint8_t *buf; /* caller-owned, TURN_REPLY_MAX bytes */
    size_t len;
};

struct turn_forward {
    struct turn_relay *relay;
    union turn_addr peer;
    const uint8_t *data; /* points into the packet: no copy */
    size_t len;
};

/* Handles one STUN message or ChannelData frame from a client. pkt holds
 * exactly one frame. */
enum turn_verdict turn_server_on_client(struct turn_server *server, const struct turn_tuple *tuple,
                                        const uint8_t *pkt, size_t len, struct turn_clock now,
                                        struct turn_reply *reply, struct turn_forward *fwd);

/* A peer's datagram arrived on alloc's relay socket. The payload is at
 * *data with TURN_HEADROOM bytes writable before it and TURN_TAILROOM
 * after. On TURN_FORWARD, *data and *len are moved to the framed message
 * (ChannelData or Data indication, written in place) to send to
 * alloc->tuple.client over alloc->tuple.conn. stream adds ChannelData
 * padding for TCP/TLS clients. */
enum turn_verdict turn_server_on_peer(struct turn_server *server, struct turn_alloc *alloc,
                                      const union turn_addr *peer, uint8_t **data, size_t *len,
                                      uint64_t now_mono);

/* Ends allocations whose lifetime ran out and drops expired permissions
 * and channels. Call about once a second. */
void turn_server_tick(struct turn_server *server, uint64_t now_mono);

/* Whether this 5-tuple holds an allocation. */
bool turn_server_has_allocation(const struct turn_server *server, const struct turn_tuple *tuple);

/* Ends the allocation of a stream connection that closed (RFC 8656 allows
 * no grace for TCP/TLS: the allocation belongs to the connection). */
void turn_server_conn_closed(struct turn_server *server, const struct turn_tuple *tuple,
                             uint64_t now_mono);

#endif
