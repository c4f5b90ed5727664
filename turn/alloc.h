/* Allocations (RFC 8656): the relayed transport address of one client
 * 5-tuple, with its permissions and channel bindings and their lifetimes.
 * A table of them belongs to one worker; nothing here is shared or locked. */
#ifndef TURN_ALLOC_H
#define TURN_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "auth.h"
#include "stun_msg.h"

#define TURN_PERMISSION_LIFETIME 300 /* RFC 8656 9 */
#define TURN_CHANNEL_LIFETIME 600    /* RFC 8656 12 */
#define TURN_CHANNEL_RESERVE 300     /* RFC 8656 12: no rebinding this long after expiry */
#define TURN_TOKEN_LEN 8             /* RESERVATION-TOKEN */

enum turn_transport {
    TURN_TRANSPORT_UDP,
    TURN_TRANSPORT_TCP,
    TURN_TRANSPORT_TLS,
};

/* The client side of an allocation: who sent the request, to which of our
 * addresses, over what. conn is relay/'s handle for the listening socket or
 * stream connection the client uses; turn/ only stores and returns it. */
struct turn_tuple {
    union turn_addr client;
    union turn_addr server;
    uint8_t transport; /* enum turn_transport */
    void *conn;
};

/* relay/'s relay socket; opaque here. */
struct turn_relay;

struct turn_permission {
    union turn_addr ip; /* port ignored */
    uint64_t expires;
};

/* A channel binding; after expires it stays in the array, reserved (its
 * number and peer bound to nothing else), until expires +
 * TURN_CHANNEL_RESERVE. */
struct turn_channel {
    union turn_addr peer;
    uint16_t number;
    bool relay_peer; /* peer is one of our relay addresses: re-checked per packet */
    uint64_t expires;
};

struct turn_alloc {
    struct turn_tuple tuple;
    union turn_addr relayed; /* as advertised (external-ip when set) */
    struct turn_relay *relay;
    uint64_t expires;
    uint64_t created;
    uint8_t tid[STUN_TID_LEN]; /* the Allocate that made it, for retransmits */
    bool has_token;
    uint8_t token[TURN_TOKEN_LEN]; /* handed out with it, for retransmits */
    uint8_t key_len;
    uint16_t integrity_attr;
    uint8_t key[TURN_AUTH_MAX_KEY];
    uint8_t user_hash[16]; /* quota bookkeeping; never the name itself */
    uint32_t bw_bytes;     /* relayed in second bw_second, both directions */
    uint64_t bw_second;
    uint16_t n_perms, cap_perms;
    uint16_t n_chans, cap_chans;
    struct turn_permission *perms;
    struct turn_channel *chans;
    struct turn_alloc *hnext;       /* hash chain */
    struct turn_alloc *prev, *next; /* list of all, for the sweep */
};

struct turn_alloc_table;

/* Returns 0, -ENOMEM or -EIO (no randomness for the hash key). */
int turn_alloc_table_new(struct turn_alloc_table **out);
/* Frees the table and every allocation in it (without calling back). */
void turn_alloc_table_free(struct turn_alloc_table *table);
size_t turn_alloc_table_count(const struct turn_alloc_table *table);

/* The allocation of this 5-tuple (client, server, transport), or NULL. */
struct turn_alloc *turn_alloc_find(const struct turn_alloc_table *table,
                                   const struct turn_tuple *tuple);

/* Creates an empty allocation for tuple and links it into the table.
 * Returns NULL on allocation failure. */
struct turn_alloc *turn_alloc_add(struct turn_alloc_table *table, const struct turn_tuple *tuple);

/* The first allocation of the table (then follow ->next), or NULL. */
struct turn_alloc *turn_alloc_table_first(const struct turn_alloc_table *table);

/* Unlinks and frees one allocation. */
void turn_alloc_remove(struct turn_alloc_table *table, struct turn_alloc *alloc);

/* Live permissions and channels over all allocations, as a sweep found them. */
struct turn_alloc_counts {
    uint64_t permissions;
    uint64_t channels;
};

/* Calls expired_cb for every allocation whose lifetime ended (the callee
 * must release it with turn_alloc_remove), drops expired permissions and
 * channels (past their reservation) of the rest, and counts the live ones. */
void turn_alloc_sweep(struct turn_alloc_table *table, uint64_t now,
                      void (*expired_cb)(struct turn_alloc *alloc, void *arg), void *arg,
                      struct turn_alloc_counts *counts);

/* Installs or refreshes permissions for the IPs of n peers, all or none
 * (RFC 8656 10.2). Returns 0, -ENOSPC (more than max would be held) or
 * -ENOMEM. */
int turn_alloc_permit(struct turn_alloc *alloc, const union turn_addr *peers, unsigned n,
                      uint64_t now, unsigned max);
/* True if an unexpired permission covers peer's IP. */
bool turn_alloc_permitted(const struct turn_alloc *alloc, const union turn_addr *peer,
                          uint64_t now);

/* Whether turn_alloc_bind would succeed for want (number, peer): 0,
 * -EEXIST or -ENOSPC. */
int turn_alloc_bind_check(const struct turn_alloc *alloc, const struct turn_channel *want,
                          uint64_t now, unsigned max);
/* Binds or refreshes channel want->number to want->peer, with its
 * relay_peer flag (RFC 8656 12, 12.2). Returns 0, -EEXIST when the number
 * is bound or reserved to another peer or the peer to another number
 * (400), -ENOSPC when max live channels are reached, -ENOMEM. */
int turn_alloc_bind(struct turn_alloc *alloc, const struct turn_channel *want, uint64_t now,
                    unsigned max);
/* The unexpired channel with this number, or NULL. */
const struct turn_channel *turn_alloc_channel(const struct turn_alloc *alloc, uint16_t number,
                                              uint64_t now);
/* The unexpired channel bound to peer (address and port), or NULL. */
const struct turn_channel *turn_alloc_channel_to(const struct turn_alloc *alloc,
                                                 const union turn_addr *peer, uint64_t now);

/* Ends the live permissions whose IP perm_ok refuses and the live
 * channels chan_ok refuses (chan_ok may also update a channel's
 * relay_peer); an ended channel stays reserved (RFC 8656 12). Returns how
 * many ended. */
unsigned turn_alloc_revoke(struct turn_alloc *alloc, uint64_t now,
                           bool (*perm_ok)(const union turn_addr *ip, void *arg),
                           bool (*chan_ok)(struct turn_channel *chan, void *arg), void *arg);

#endif
