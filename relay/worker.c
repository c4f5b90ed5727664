/* Worker threads: the UDP listeners, relay sockets and the packet paths
 * between them, on one libevent loop per thread. */
#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "relay_sock.h"
#include "reservation.h"
#include "udp.h"

#define BATCH 32
#define PKT_ROOM (TURN_HEADROOM + 65536 + TURN_TAILROOM)

struct listener {
    int fd;
    struct event ev;
    union turn_addr addr;
    struct worker *worker;
};

/* recvmmsg/sendmmsg vectors; payloads land TURN_HEADROOM into each buffer. */
struct batch {
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    union turn_addr addr[BATCH];
    union udp_control ctl[BATCH];
};

struct worker {
    const struct relay_env *env;
    unsigned index;
    struct event_base *base;
    struct event *tick;
    pthread_t thread;
    bool running;
    struct turn_server *turn;
    struct listener listeners[BR_ENV_MAX_LISTEN];
    size_t n_listeners;
    struct batch in, out;
    uint8_t *bufs; /* BATCH * PKT_ROOM */
    uint8_t reply[TURN_REPLY_MAX];
};

static struct turn_clock clock_now(void)
{
    struct timespec mono, wall;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &mono);
    clock_gettime(CLOCK_REALTIME_COARSE, &wall);
    return (struct turn_clock){.mono = (uint64_t)mono.tv_sec, .wall = (uint64_t)wall.tv_sec};
}

static uint8_t *buf_at(struct worker *w, unsigned i)
{
    return w->bufs + (size_t)i * PKT_ROOM;
}

static int recv_batch(struct worker *w, int fd)
{
    for (unsigned i = 0; i < BATCH; i++) {
        w->in.iov[i] = (struct iovec){buf_at(w, i) + TURN_HEADROOM, 65536};
        w->in.msgs[i].msg_hdr = (struct msghdr){
            .msg_name = &w->in.addr[i],
            .msg_namelen = sizeof(w->in.addr[i]),
            .msg_iov = &w->in.iov[i],
            .msg_iovlen = 1,
            .msg_control = w->in.ctl[i].buf,
            .msg_controllen = sizeof(w->in.ctl[i].buf),
        };
    }
    return recvmmsg(fd, w->in.msgs, BATCH, MSG_DONTWAIT, NULL);
}

/* UDP: a full socket buffer or an unreachable peer loses this datagram
 * only, as the network would; the result is not checked. */
static void send_to(int fd, const void *data, size_t len, const union turn_addr *to)
{
    (void)sendto(fd, data, len, MSG_DONTWAIT, &to->sa, turn_addr_len(to));
}

/* To a client, from the local address it used (a wildcard listener needs
 * packet info for that). */
static void send_to_client(const struct listener *l, const void *data, size_t len,
                           const struct turn_tuple *tuple)
{
    union udp_control ctl;
    struct iovec iov = {(void *)data, len};
    struct msghdr msg = {
        .msg_name = (void *)&tuple->client,
        .msg_namelen = turn_addr_len(&tuple->client),
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = ctl.buf,
        .msg_controllen = udp_source_control(&ctl, &l->addr, &tuple->server),
    };

    if (!msg.msg_controllen) {
        msg.msg_control = NULL;
    }
    (void)sendmsg(l->fd, &msg, MSG_DONTWAIT);
}

static void on_client_datagram(struct worker *w, struct listener *l, unsigned i,
                               struct turn_clock now)
{
    struct turn_tuple tuple = {.client = w->in.addr[i], .transport = TURN_TRANSPORT_UDP, .conn = l};
    struct turn_reply reply = {.buf = w->reply};
    struct turn_forward fwd;
    const uint8_t *pkt = buf_at(w, i) + TURN_HEADROOM;

    if (w->in.msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
        turn_server_stats(w->turn)->dropped[TURN_DROP_MALFORMED]++;
        return;
    }
    udp_local_addr(&w->in.msgs[i].msg_hdr, &l->addr, &tuple.server);
    switch (turn_server_on_client(w->turn, &tuple, pkt, w->in.msgs[i].msg_len, now, &reply, &fwd)) {
    case TURN_REPLY:
        send_to_client(l, reply.buf, reply.len, &tuple);
        break;
    case TURN_FORWARD:
        send_to(fwd.relay->fd, fwd.data, fwd.len, &fwd.peer);
        break;
    case TURN_DROP:
        break;
    }
}

static void listener_cb(evutil_socket_t fd, short what, void *arg)
{
    struct listener *l = arg;
    struct worker *w = l->worker;
    int n;

    do {
        n = recv_batch(w, fd);
        struct turn_clock now = clock_now();
        for (int i = 0; i < n; i++) {
            on_client_datagram(w, l, (unsigned)i, now);
        }
    } while (n == BATCH);
}

/* Peer datagrams: framed in place and sent to the client in one sendmmsg. */
static void relay_cb(evutil_socket_t fd, short what, void *arg)
{
    struct turn_relay *r = arg;
    struct worker *w = r->worker;
    struct turn_alloc *alloc = r->alloc;
    struct listener *l = alloc->tuple.conn;
    union udp_control ctl;
    size_t ctl_len = udp_source_control(&ctl, &l->addr, &alloc->tuple.server);
    int n;

    do {
        unsigned k = 0;
        n = recv_batch(w, fd);
        uint64_t now = clock_now().mono;
        for (int i = 0; i < n; i++) {
            uint8_t *data = buf_at(w, (unsigned)i) + TURN_HEADROOM;
            size_t len = w->in.msgs[i].msg_len;
            turn_addr_canonical(&w->in.addr[i]);
            if (turn_server_on_peer(w->turn, alloc, &w->in.addr[i], &data, &len, now) !=
                TURN_FORWARD) {
                continue;
            }
            w->out.iov[k] = (struct iovec){data, len};
            w->out.msgs[k].msg_hdr = (struct msghdr){
                .msg_name = &alloc->tuple.client,
                .msg_namelen = turn_addr_len(&alloc->tuple.client),
                .msg_iov = &w->out.iov[k],
                .msg_iovlen = 1,
                .msg_control = ctl_len ? ctl.buf : NULL,
                .msg_controllen = ctl_len,
            };
            k++;
        }
        if (k) {
            (void)sendmmsg(l->fd, w->out.msgs, k, MSG_DONTWAIT);
        }
    } while (n == BATCH);
}

/* A new socket from the range, or the one reserved under the token. */
static int relay_socket(struct worker *w, struct turn_relay_request *rr, const union turn_addr *ip,
                        union turn_addr *bound)
{
    const struct relay_env *env = w->env;
    uint64_t now = clock_now().mono;
    int next_fd = -1, fd;

    if (rr->token) {
        return reservations_take(env->reservations, rr->token, now, bound);
    }
    fd = relay_sock_bind(ip, env->port_min, env->port_max, rr->flags, bound, &next_fd);
    if (fd >= 0 && next_fd >= 0) {
        union turn_addr next = *bound;
        turn_addr_set_port(&next, (uint16_t)(turn_addr_port(bound) + 1));
        if (reservations_put(env->reservations, next_fd, &next, now, rr->new_token) < 0) {
            close(fd);
            return -EADDRINUSE;
        }
    }
    return fd;
}

static int relay_open(void *arg, struct turn_alloc *alloc, struct turn_relay_request *rr,
                      struct turn_relay **out, union turn_addr *advertised)
{
    struct worker *w = arg;
    const struct relay_env *env = w->env;
    bool v6 = rr->family == AF_INET6;
    const union turn_addr *ip = v6 ? &env->relay_ip6 : &env->relay_ip4;
    const union turn_addr *ext = v6 ? &env->external_ip6 : &env->external_ip4;
    union turn_addr bound;
    struct turn_relay *r;
    int fd;

    if (!ip->sa.sa_family) {
        return -EAFNOSUPPORT;
    }
    fd = relay_socket(w, rr, ip, &bound);
    if (fd < 0) {
        return fd;
    }
    r = calloc(1, sizeof(*r));
    if (!r) {
        close(fd);
        return -ENOMEM;
    }
    r->fd = fd;
    r->alloc = alloc;
    r->worker = w;
    event_assign(&r->ev, w->base, fd, EV_READ | EV_PERSIST, relay_cb, r);
    event_add(&r->ev, NULL);
    *advertised = bound;
    if (ext->sa.sa_family) {
        *advertised = *ext;
        turn_addr_set_port(advertised, turn_addr_port(&bound));
    }
    *out = r;
    return 0;
}

static void relay_close(void *arg, struct turn_relay *r)
{
    event_del(&r->ev);
    close(r->fd);
    free(r);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;

    turn_server_tick(w->turn, clock_now().mono);
}

static int listener_open(struct worker *w, struct listener *l, const union turn_addr *addr)
{
    int fd = udp_listen(addr);

    if (fd < 0) {
        return fd;
    }
    l->fd = fd;
    l->addr = *addr;
    l->worker = w;
    event_assign(&l->ev, w->base, fd, EV_READ | EV_PERSIST, listener_cb, l);
    return event_add(&l->ev, NULL) < 0 ? -ENOMEM : 0;
}

static int worker_setup(struct worker *w, char *what, size_t what_len)
{
    struct turn_server_config cfg = w->env->turn;
    static const struct timeval second = {1, 0};
    int err;

    snprintf(what, what_len, "event loop");
    w->base = event_base_new();
    w->bufs = malloc((size_t)BATCH * PKT_ROOM);
    w->tick = w->base ? event_new(w->base, -1, EV_PERSIST, tick_cb, w) : NULL;
    if (!w->tick || !w->bufs || event_add(w->tick, &second) < 0) {
        return -ENOMEM;
    }
    cfg.ops = (struct turn_relay_ops){.open = relay_open, .close = relay_close, .arg = w};
    if ((err = turn_server_new(&w->turn, &cfg)) < 0) {
        return err;
    }
    for (size_t i = 0; i < w->env->n_listen; i++) {
        err = listener_open(w, &w->listeners[i], &w->env->listen[i]);
        if (err < 0) {
            char addr[64];
            snprintf(what, what_len, "listen: udp %s",
                     turn_addr_format(&w->env->listen[i], addr, sizeof(addr)));
            return err;
        }
        w->n_listeners++;
    }
    return 0;
}

int worker_new(struct worker **out, const struct relay_env *env, unsigned index, char *what,
               size_t what_len)
{
    struct worker *w = calloc(1, sizeof(*w));
    int err;

    snprintf(what, what_len, "memory");
    if (!w) {
        return -ENOMEM;
    }
    w->env = env;
    w->index = index;
    err = worker_setup(w, what, what_len);
    if (err < 0) {
        worker_free(w);
        return err;
    }
    *out = w;
    return 0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;

    event_base_dispatch(w->base);
    return NULL;
}

int worker_start(struct worker *w)
{
    int err = pthread_create(&w->thread, NULL, worker_main, w);

    w->running = err == 0;
    return -err;
}

void worker_stop(struct worker *w)
{
    if (w->running) {
        event_base_loopbreak(w->base);
        pthread_join(w->thread, NULL);
        w->running = false;
    }
}

void worker_free(struct worker *w)
{
    if (!w) {
        return;
    }
    turn_server_free(w->turn);
    for (size_t i = 0; i < w->n_listeners; i++) {
        event_del(&w->listeners[i].ev);
        close(w->listeners[i].fd);
    }
    if (w->tick) {
        event_free(w->tick);
    }
    if (w->base) {
        event_base_free(w->base);
    }
    free(w->bufs);
    free(w);
}

const struct turn_stats *worker_stats(struct worker *w)
{
    return turn_server_stats(w->turn);
}
