/* Inside a worker: its state, shared by worker.c and the packet path
 * modules (client_udp, client_stream, peer_side, relay_socket), and the
 * receive batch they all drain sockets into. Not for other modules. */
#ifndef RELAY_WORKER_INTERNAL_H
#define RELAY_WORKER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/listener.h>

#include "out_queue.h"
#include "rules.h"
#include "udp.h"
#include "worker.h"

#define BATCH 32
/* Batches drained per readiness callback before the loop gets a turn:
 * one flooded socket must not starve the others, the tick and stop. */
#define MAX_BATCHES 8
#define PKT_ROOM (TURN_HEADROOM + 65536 + TURN_TAILROOM)
/* Stream clients' payloads for peers, copied out of their bufferevents:
 * room for the largest frame at least, and for a whole out queue of
 * small ones. */
#define STAGE_ROOM (2 * PKT_ROOM)

/* What a turn_tuple.conn points to: the first member of a UDP listener or
 * of a stream connection, so the peer side knows how to reach the client. */
enum client_kind {
    CLIENT_UDP,
    CLIENT_STREAM,
};

struct client_link {
    enum client_kind kind;
};

struct udp_listener {
    struct client_link link; /* first */
    int fd;
    struct event ev;
    union turn_addr addr;
    bool wildcard; /* answers need packet info to leave from the right address */
    struct worker *worker;
};

struct stream_listener {
    struct evconnlistener *lev;
    bool tls;
    bool paused; /* accept() failed (EMFILE...): disabled until the next tick */
    struct worker *worker;
};

struct stream_conn;

/* recvmmsg vectors; payloads land TURN_HEADROOM into each buffer. The
 * headers are set up once; only what the kernel overwrites is reset. */
struct batch {
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    union turn_addr addr[BATCH];
    union udp_control ctl[BATCH];
    unsigned dirty; /* entries the last call filled */
};

struct worker {
    const struct relay_env *env;
    unsigned index;
    struct event_base *base;
    struct event *tick;
    struct event *stop; /* an eventfd: worker_stop wakes the loop through it */
    pthread_t thread;
    bool running;
    struct turn_server *turn;
    _Atomic uint64_t rules_generation;
    struct relay_settings settings; /* this worker's copy, taken with the rules */
    struct relay_stats stats;
    struct udp_listener udp[BR_ENV_MAX_LISTEN];
    size_t n_udp;
    struct stream_listener streams[2 * BR_ENV_MAX_LISTEN];
    size_t n_streams;
    struct stream_conn *conns; /* every open stream connection */
    struct batch in;
    /* flushed before the batch's or the stage's buffers are reused, and
     * before a relay socket closes */
    struct out_queue out;
    /* this worker's relay sockets by port - port_min, per family, for
     * relay-to-relay delivery without a trip through the kernel */
    struct turn_relay **local_relays[2];
    uint8_t *bufs;  /* BATCH * PKT_ROOM */
    uint8_t *stage; /* STAGE_ROOM: stream payloads waiting in the out queue */
    size_t staged;  /* bytes of stage in use; 0 after each stream flush */
    uint8_t reply[TURN_REPLY_MAX];
};

struct turn_clock worker_clock(void);

/* Receive buffer i of the batch (payload starts TURN_HEADROOM into it). */
static inline uint8_t *worker_buf(struct worker *w, unsigned i)
{
    return w->bufs + (size_t)i * PKT_ROOM;
}

/* recvmmsg into the worker's batch. Returns the count or -1. */
int worker_recv_batch(struct worker *w, int fd);
/* Sets up the batch's headers once. */
void worker_batch_init(struct worker *w);

#endif
