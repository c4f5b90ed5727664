/* Inside a worker: shared by worker.c and the packet paths (udp_path.c,
 * stream.c, peer_path.c). Not for other modules. */
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

/* What a turn_tuple.conn points to: the first member of a UDP listener or
 * of a stream connection, so the peer path knows how to reach the client. */
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
    struct out_queue out; /* flushed before the batch's buffers are reused */
    /* this worker's relay sockets by port - port_min, per family, for
     * relay-to-relay delivery without a trip through the kernel */
    struct turn_relay **local_relays[2];
    uint8_t *bufs; /* BATCH * PKT_ROOM */
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

/* Sends a client's payload to its peer through the allocation's relay
 * socket at once (stream clients: their data does not outlive the read
 * callback). UDP: a full buffer loses this datagram only, as the network
 * would. */
void worker_forward(const struct turn_forward *fwd);

int udp_path_open(struct worker *w, struct udp_listener *l, const union turn_addr *addr);
void udp_path_close(struct udp_listener *l);
/* Queues a framed message for a UDP client (flushing first when full). */
void udp_path_queue(struct worker *w, const struct turn_tuple *tuple, uint8_t *data, size_t len);

int stream_listen(struct worker *w, struct stream_listener *sl, const union turn_addr *addr,
                  bool tls);
void stream_unlisten(struct stream_listener *sl);
/* Queues a framed message for a stream client; drops it (counted) when the
 * client's queue is over the stream-buffer limit. */
void stream_send(struct stream_conn *c, const uint8_t *data, size_t len);
/* Closes connections past their deadline or whose allocation ended. */
void stream_tick(struct worker *w);
/* Closes every connection of the worker (shutdown). */
void stream_close_all(struct worker *w);

/* Relay socket readiness: peer datagrams to the allocation's client. */
void peer_path_cb(evutil_socket_t fd, short what, void *arg);

/* A client's payload for a peer: when the peer is another allocation's
 * relayed address in this worker, it is handed over in place (the kernel
 * would only loop it back); otherwise it is sent from the relay socket.
 * data is fwd->data, writable, with TURN_HEADROOM before it. */
void peer_path_forward(struct worker *w, const struct turn_forward *fwd, uint8_t *data,
                       uint64_t now);

/* The relay socket of this worker whose advertised address is a, or NULL. */
struct turn_relay *worker_local_relay(struct worker *w, const union turn_addr *a);
/* Registers or forgets a relay socket for in-worker relay-to-relay. */
void worker_local_relay_set(struct worker *w, const union turn_addr *bound, struct turn_relay *r);

#endif
