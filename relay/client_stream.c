/* The client side over TCP and TLS (RFC 8656 3.1, 12.6): connections on
 * bufferevents, STUN messages and ChannelData frames back to back on the
 * stream. The allocation belongs to the connection and ends with it. */
#include "client_stream.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

#include "conn_limit.h"
#include "peer_side.h"
#include "tls.h"
#include "turn/frame.h"

#define LISTEN_BACKLOG 1024

struct stream_conn {
    struct client_link link; /* first */
    struct worker *worker;
    struct bufferevent *bev;
    struct turn_tuple tuple;
    int limit_slot;
    bool handshaking;
    bool allocated;
    uint64_t deadline; /* monotonic milliseconds; only whole requests move it */
    struct stream_conn *prev, *next;
};

/* Deadlines count in milliseconds: checked once a second, a connection
 * closes between its timeout and a second later, never before. */
static uint64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t deadline_in(uint32_t seconds)
{
    return mono_ms() + (uint64_t)seconds * 1000;
}

/* The out queue does not copy, and the bufferevent drains each frame at
 * once: a payload for a peer is copied to the worker's stage (with room
 * around it for framing in place, should the peer be an allocation of this
 * worker) and waits there with the others of the read. */
static void forward(struct worker *w, const struct turn_forward *fwd, uint64_t now)
{
    size_t room = (TURN_HEADROOM + fwd->len + TURN_TAILROOM + 7) & ~(size_t)7;
    uint8_t *data;

    if (w->staged + room > STAGE_ROOM) {
        out_queue_flush(&w->out);
        w->staged = 0;
    }
    data = w->stage + w->staged + TURN_HEADROOM;
    w->staged += room;
    memcpy(data, fwd->data, fwd->len);
    peer_side_forward(w, fwd, data, now);
}

static void stream_close(struct stream_conn *c)
{
    struct worker *w = c->worker;

    turn_server_conn_closed(w->turn, &c->tuple, worker_clock().mono);
    conn_limit_release(w->env->conn_limit, c->limit_slot);
    if (c->prev) {
        c->prev->next = c->next;
    } else {
        w->conns = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    w->stats.connections_active--;
    bufferevent_free(c->bev);
    free(c);
}

void client_stream_close_all(struct worker *w)
{
    while (w->conns) {
        stream_close(w->conns);
    }
}

void client_stream_send(struct stream_conn *c, const uint8_t *data, size_t len)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);

    if (c->handshaking || evbuffer_get_length(out) + len > c->worker->settings.stream_buffer) {
        /* real-time media: late is as good as lost, and the queue stays bounded */
        turn_server_stats(c->worker->turn)->dropped[TURN_DROP_BUFFER_FULL]++;
        return;
    }
    evbuffer_add(out, data, len);
}

/* Handles one whole frame. Returns false when the connection must close:
 * a client that sends requests but does not read the answers would
 * otherwise grow its output queue without bound. */
static bool on_frame(struct stream_conn *c, const uint8_t *frame, size_t len)
{
    struct worker *w = c->worker;
    struct turn_reply reply = {.buf = w->reply};
    struct turn_forward fwd;
    struct turn_clock now = worker_clock();

    switch (turn_server_on_client(w->turn, &c->tuple, frame, len, now, &reply, &fwd)) {
    case TURN_REPLY:
        if (evbuffer_get_length(bufferevent_get_output(c->bev)) > w->settings.stream_buffer) {
            return false;
        }
        bufferevent_write(c->bev, reply.buf, reply.len);
        /* requests never move the deadline: only an allocation keeps the
         * connection, so answered but unauthenticated requests cannot */
        c->allocated = turn_server_has_allocation(w->turn, &c->tuple);
        break;
    case TURN_FORWARD:
        forward(w, &fwd, now.mono);
        break;
    case TURN_DROP:
        break;
    }
    return true;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    struct stream_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    bool rfc5766 = c->worker->settings.rfc5766_channels;
    uint8_t hdr[TURN_FRAME_HEADER_LEN];
    size_t len;

    while (evbuffer_get_length(in) >= sizeof(hdr)) {
        evbuffer_copyout(in, hdr, sizeof(hdr));
        if (turn_frame_len(hdr, sizeof(hdr), rfc5766, &len) != 0) {
            /* the stream has lost its framing: nothing after this can be trusted */
            c->worker->stats.stream_garbage++;
            turn_server_stats(c->worker->turn)->dropped[TURN_DROP_MALFORMED]++;
            stream_close(c);
            return;
        }
        if (!c->allocated && len > c->worker->settings.max_unauth_frame) {
            /* until it holds an allocation a client has no use for large
             * frames, and waiting for one would pin its bytes here */
            c->worker->stats.stream_oversize++;
            stream_close(c);
            return;
        }
        if (evbuffer_get_length(in) < len) {
            return; /* a partial frame waits for the rest */
        }
        if (!on_frame(c, evbuffer_pullup(in, (ssize_t)len), len)) {
            stream_close(c);
            return;
        }
        evbuffer_drain(in, len);
    }
}

static void event_cb(struct bufferevent *bev, short events, void *arg)
{
    struct stream_conn *c = arg;
    struct worker *w = c->worker;

    if (events & BEV_EVENT_CONNECTED) {
        c->handshaking = false; /* TLS handshake done */
        c->deadline = deadline_in(w->settings.idle_timeout);
        return;
    }
    if (c->handshaking) {
        w->stats.handshake_failures++;
    }
    stream_close(c);
}

/* Payloads for peers go out together when the read is done, as a UDP
 * batch's do. */
static void readable_cb(struct bufferevent *bev, void *arg)
{
    struct worker *w = ((struct stream_conn *)arg)->worker;

    read_cb(bev, arg); /* may close the connection */
    out_queue_flush(&w->out);
    w->staged = 0;
}

/* Once a second: listeners resting after a failed accept() listen again;
 * connections that got no allocation within idle-timeout of connecting (or
 * of finishing the TLS handshake) are closed, and so are those whose
 * allocation ended. Neither bytes nor requests extend the
 * deadline, so neither a client trickling a partial frame nor one sending
 * unauthenticated requests can hold a slot. */
void client_stream_tick(struct worker *w)
{
    uint64_t now = mono_ms();

    struct stream_conn *c = w->conns, *next;

    for (size_t i = 0; i < w->n_streams; i++) {
        if (w->streams[i].paused) {
            w->streams[i].paused = false;
            evconnlistener_enable(w->streams[i].lev);
        }
    }
    for (; c; c = next) {
        next = c->next;
        if (c->allocated) {
            c->allocated = turn_server_has_allocation(w->turn, &c->tuple);
            if (!c->allocated) {
                stream_close(c);
            }
        } else if (now >= c->deadline) {
            w->stats.handshake_failures += c->handshaking;
            w->stats.idle_closed += !c->handshaking;
            stream_close(c);
        }
    }
}

static struct bufferevent *new_bufferevent(struct worker *w, int fd, bool tls)
{
    SSL *ssl;
    struct bufferevent *bev;

    if (!tls) {
        return bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
    }
    ssl = tls_store_new_ssl(w->env->tls);
    if (!ssl) {
        return NULL;
    }
    bev = bufferevent_openssl_socket_new(w->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                         BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        SSL_free(ssl);
    }
    return bev;
}

static struct stream_conn *conn_new(struct worker *w, int fd, const union turn_addr *client,
                                    bool tls)
{
    struct stream_conn *c = calloc(1, sizeof(*c));
    socklen_t len = sizeof(c->tuple.server);
    int one = 1;

    if (!c || !(c->bev = new_bufferevent(w, fd, tls))) {
        free(c);
        return NULL;
    }
    c->link.kind = CLIENT_STREAM;
    c->worker = w;
    c->handshaking = tls;
    c->tuple.client = *client;
    getsockname(fd, &c->tuple.server.sa, &len);
    c->tuple.transport = tls ? TURN_TRANSPORT_TLS : TURN_TRANSPORT_TCP;
    c->tuple.conn = &c->link;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    bufferevent_setcb(c->bev, readable_cb, NULL, event_cb, c);
    /* No read high watermark: read_cb takes every whole frame each time, so
     * the input holds at most one partial frame and one read (16 KiB), and
     * libevent 2.1's OpenSSL bufferevents can stall for good when one is
     * set (libevent#690, #854: decrypted bytes left inside OpenSSL). */
    c->deadline = deadline_in(tls ? w->settings.handshake_timeout : w->settings.idle_timeout);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    return c;
}

static void accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    struct stream_listener *sl = arg;
    struct worker *w = sl->worker;
    union turn_addr client = {0};
    struct stream_conn *c;
    int slot;

    memcpy(&client, sa, (size_t)salen < sizeof(client) ? (size_t)salen : sizeof(client));
    turn_addr_canonical(&client);
    slot = conn_limit_take(w->env->conn_limit, &client);
    if (slot < 0) {
        w->stats.connections_refused++;
        close(fd);
        return;
    }
    c = conn_new(w, fd, &client, sl->tls);
    if (!c) {
        conn_limit_release(w->env->conn_limit, slot);
        close(fd);
        return;
    }
    c->limit_slot = slot;
    c->next = w->conns;
    if (w->conns) {
        w->conns->prev = c;
    }
    w->conns = c;
    w->stats.connections_accepted[sl->tls]++;
    w->stats.connections_active++;
}

/* accept() failed for want of a descriptor (EMFILE, ENFILE) or of kernel
 * memory. The pending connection stays in the backlog and the listener
 * stays readable, so libevent would call accept() again at once, forever:
 * the listener rests until the next tick, when closed connections or
 * allocations may have given descriptors back. */
static void accept_error_cb(struct evconnlistener *lev, void *arg)
{
    struct stream_listener *sl = arg;

    sl->worker->stats.accept_paused++;
    sl->paused = true;
    evconnlistener_disable(lev);
}

int client_stream_listen(struct worker *w, struct stream_listener *sl, const union turn_addr *addr,
                         bool tls)
{
    unsigned flags =
        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT;

    if (addr->sa.sa_family == AF_INET6) {
        flags |= LEV_OPT_BIND_IPV6ONLY;
    }
    sl->worker = w;
    sl->tls = tls;
    sl->lev = evconnlistener_new_bind(w->base, accept_cb, sl, flags, LISTEN_BACKLOG, &addr->sa,
                                      (int)turn_addr_len(addr));
    if (!sl->lev) {
        return -errno;
    }
    evconnlistener_set_error_cb(sl->lev, accept_error_cb);
    return 0;
}

void client_stream_unlisten(struct stream_listener *sl)
{
    if (sl->lev) {
        evconnlistener_free(sl->lev);
    }
}
