/* Private to admin/: the endpoint's connection table. Each connection has a
 * deadline (its current request must be done by then) and an address key;
 * a newcomer over the soft limit of all connections, or of its address,
 * makes room by closing the connection that has waited longest for a
 * request, of the busiest address. No locks: the admin thread only. */
#ifndef ADMIN_CONNS_H
#define ADMIN_CONNS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define ADMIN_CONNS_MAX 64 /* hard limit, given to libmicrohttpd too */

/* Why a connection was shut down here. */
enum admin_close {
    ADMIN_CLOSE_ROOM,     /* to make room for a newcomer */
    ADMIN_CLOSE_DEADLINE, /* its request was not done in time */
    ADMIN_CLOSE_COUNT,
};

struct admin_conn {
    int fd;              /* -1: free slot */
    uint8_t key[17];     /* family byte, then the IPv4 address or the IPv6 /64 */
    bool closing;        /* shut down; waiting for libmicrohttpd to notice */
    bool busy;           /* between the start and the end of an answer */
    unsigned requests;   /* answered or being answered on this connection */
    int64_t since_ms;    /* when it last became idle (accepted or answered) */
    int64_t deadline_ms; /* its next request must be answered by then */
};

struct admin_conns {
    struct admin_conn slot[ADMIN_CONNS_MAX];
    unsigned soft_max;     /* connections past this make room for themselves */
    unsigned per_addr_max; /* the same, per address */
    uint64_t closed[ADMIN_CLOSE_COUNT];
};

/* Empties the table. soft_max <= ADMIN_CONNS_MAX. */
void admin_conns_init(struct admin_conns *t, unsigned soft_max, unsigned per_addr_max);

/* Takes a slot for a connection accepted at now from sa, whose first
 * request must be done by now + deadline_ms. If it puts its address over
 * per_addr_max, that address's longest-idle connection is marked closing;
 * else if it puts the table over soft_max, the longest-idle connection of
 * the address with the most connections is. Returns the slot, or NULL
 * when the table is full or fd is negative. */
struct admin_conn *admin_conns_open(struct admin_conns *t, int fd, const struct sockaddr *sa,
                                    int64_t now, int64_t deadline_ms);

/* A request on c is being answered; returns how many c has had, this one
 * included. */
unsigned admin_conns_request(struct admin_conn *c);

/* The answer on c is done at now: c is idle, and its next request must be
 * done by now + keepalive_ms. */
void admin_conns_answered(struct admin_conn *c, int64_t now, int64_t keepalive_ms);

/* Frees the slot (NULL: nothing). */
void admin_conns_close(struct admin_conn *c);

/* Shuts down (SHUT_RDWR) every connection marked closing or past its
 * deadline, once each; libmicrohttpd then sees them closed. Call between
 * MHD_run calls. Returns the milliseconds until the next deadline, at most
 * max_wait_ms. */
int64_t admin_conns_enforce(struct admin_conns *t, int64_t now, int64_t max_wait_ms);

#endif
