/* Shared between server.c and server_requests.c; not part of the API. */
#ifndef TURN_SERVER_INTERNAL_H
#define TURN_SERVER_INTERNAL_H

#include "server.h"
#include "siphash.h"

struct turn_server {
    struct turn_server_config cfg;
    struct turn_alloc_table *table;
    struct turn_stats stats;
    uint64_t indication_seq;
    struct turn_siphash_key indication_key; /* Data indication ids: PRF of the seq */
    bool draining;
};

/* One request being answered: its message, who sent it, the reply under
 * construction and the credentials that authenticated it (key_len 0 when
 * not authenticated). */
struct request {
    struct turn_server *server;
    const struct turn_tuple *tuple;
    const struct stun_msg *msg;
    struct turn_clock now;
    struct turn_reply *reply;
    struct stun_builder b;
    const struct turn_auth_result *auth;
};

/* Starts a success response to req. */
void reply_success(struct request *req);
/* Writes a complete error response with this code (and UNKNOWN-ATTRIBUTES
 * or the auth challenge where the code needs them). */
enum turn_verdict reply_error(struct request *req, int code);
/* Adds integrity (when authenticated) and FINGERPRINT (when the request
 * had one), finishes the reply. */
enum turn_verdict reply_finish(struct request *req);

enum turn_verdict handle_allocate(struct request *req, struct turn_alloc *existing);
enum turn_verdict handle_refresh(struct request *req, struct turn_alloc *alloc);
enum turn_verdict handle_create_permission(struct request *req, struct turn_alloc *alloc);
enum turn_verdict handle_channel_bind(struct request *req, struct turn_alloc *alloc);

/* Releases an allocation: relay socket, quota, table entry, counters. */
void server_release(struct turn_server *server, struct turn_alloc *alloc, uint64_t now);

#endif
