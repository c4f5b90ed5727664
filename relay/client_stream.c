/* The client side over TCP and TLS (RFC 8656 3.1, 12.6): connections on
 * bufferevents, STUN messages and ChannelData frames back to back on the
 * stream. The allocation belongs to the connection and ends with it.
 * Connections from a trusted proxy (proxy-protocol-from) begin with a PROXY
 * protocol v2 header naming the client, read before the bufferevent (and
 * TLS) starts. */
#include "client_stream.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

#include "conn_limit.h"
#include "peer_side.h"
#include "proxy_v2.h"
#include "tls.h"
#include "turn/frame.h"

#define LISTEN_BACKLOG 1024

struct stream_conn {
    struct client_link link; /* first */
    struct worker *worker;
    struct bufferevent *bev; /* NULL while a PROXY header is awaited */
    struct turn_tuple tuple;
    int fd;
    int limit_slot;          /* -1 while a PROXY header is awaited */
    struct event *header_ev; /* the raw socket's reads until the header is whole */
    uint8_t *header;         /* PROXY_V2_MAX_LEN bytes while awaited, else NULL */
    size_t header_have, header_want;
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

    if (c->limit_slot >= 0) {
        conn_limit_release(w->env->conn_limit, c->limit_slot);
    }
    if (c->prev) {
        c->prev->next = c->next;
    } else {
        w->conns = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    w->stats.connections_active--;
    if (c->bev) {
        turn_server_conn_closed(w->turn, &c->tuple, worker_clock().mono);
        bufferevent_free(c->bev);
    } else {
        if (c->header_ev) {
            event_free(c->header_ev);
        }
        free(c->header);
        close(c->fd);
    }
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
            w->stats.proxy_header_failures += !c->bev;
            w->stats.handshake_failures += c->bev && c->handshaking;
            w->stats.idle_closed += c->bev && !c->handshaking;
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

static int conn_start(struct stream_conn *c)
{
    struct worker *w = c->worker;
    bool tls = c->tuple.transport == TURN_TRANSPORT_TLS;
    int one = 1;

    c->bev = new_bufferevent(w, c->fd, tls);
    if (!c->bev) {
        return -ENOMEM;
    }
    c->handshaking = tls;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    bufferevent_setcb(c->bev, readable_cb, NULL, event_cb, c);
    /* No read high watermark: read_cb takes every whole frame each time, so
     * the input holds at most one partial frame and one read (16 KiB), and
     * libevent 2.1's OpenSSL bufferevents can stall for good when one is
     * set (libevent#690, #854: decrypted bytes left inside OpenSSL). */
    c->deadline = deadline_in(tls ? w->settings.handshake_timeout : w->settings.idle_timeout);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    return 0;
}

/* The header is whole: its client stands for the connection's from now on
 * (nonce, caps, quotas, permissions, XOR-MAPPED-ADDRESS); LOCAL (the
 * proxy's own check) keeps the proxy's. Whatever follows the header is
 * still in the socket, for the bufferevent. */
static void header_done(struct stream_conn *c, const struct proxy_v2_header *h)
{
    struct worker *w = c->worker;

    if (!h->local) {
        c->tuple.client = h->src;
        turn_addr_canonical(&c->tuple.client);
    }
    event_free(c->header_ev);
    c->header_ev = NULL;
    free(c->header);
    c->header = NULL;
    c->limit_slot = conn_limit_take(w->env->conn_limit, &c->tuple.client);
    if (c->limit_slot < 0) {
        w->stats.connections_refused++;
        stream_close(c);
        return;
    }
    if (conn_start(c) < 0) {
        stream_close(c);
    }
}

/* Reads never more than the header still needs (proxy_v2_parse says how
 * much), so no byte of the client's own stream is taken. */
static void header_cb(evutil_socket_t fd, short what, void *arg)
{
    struct stream_conn *c = arg;
    struct proxy_v2_header h;
    ssize_t n;
    int rc;

    (void)what;
    for (;;) {
        n = recv(fd, c->header + c->header_have, c->header_want - c->header_have, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            return;
        }
        if (n <= 0) {
            break; /* closed or failed before the header was whole */
        }
        c->header_have += (size_t)n;
        rc = proxy_v2_parse(c->header, c->header_have, &h, &c->header_want);
        if (rc == 0) {
            header_done(c, &h);
            return;
        }
        if (rc != -EAGAIN) {
            break; /* not a header, or one over PROXY_V2_MAX_LEN: closed at once */
        }
    }
    c->worker->stats.proxy_header_failures++;
    stream_close(c);
}

/* A trusted proxy's connection: no bufferevent, no TLS and no connection
 * cap until the header names the client; handshake-timeout bounds the
 * wait. */
static int conn_await_header(struct stream_conn *c)
{
    struct worker *w = c->worker;

    c->header = malloc(PROXY_V2_MAX_LEN);
    c->header_ev = event_new(w->base, c->fd, EV_READ | EV_PERSIST, header_cb, c);
    if (!c->header || !c->header_ev || event_add(c->header_ev, NULL) < 0) {
        if (c->header_ev) {
            event_free(c->header_ev);
        }
        free(c->header);
        return -ENOMEM;
    }
    c->header_have = 0;
    c->header_want = PROXY_V2_FIXED_LEN;
    c->deadline = deadline_in(w->settings.handshake_timeout);
    return 0;
}

static struct stream_conn *conn_new(struct worker *w, int fd, const union turn_addr *client,
                                    bool tls, int slot)
{
    struct stream_conn *c = calloc(1, sizeof(*c));
    socklen_t len = sizeof(c->tuple.server);
    int rc;

    if (!c) {
        return NULL;
    }
    c->link.kind = CLIENT_STREAM;
    c->worker = w;
    c->fd = fd;
    c->limit_slot = slot;
    c->tuple.client = *client;
    getsockname(fd, &c->tuple.server.sa, &len);
    c->tuple.transport = tls ? TURN_TRANSPORT_TLS : TURN_TRANSPORT_TCP;
    c->tuple.conn = &c->link;
    rc = slot < 0 ? conn_await_header(c) : conn_start(c);
    if (rc < 0) {
        free(c);
        return NULL;
    }
    return c;
}

/* Without proxy-protocol-from every connection is its own client; with
 * it, those from a trusted proxy must send a header first, and no other
 * may (a header from anywhere else is garbage on the stream). */
static void accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    struct stream_listener *sl = arg;
    struct worker *w = sl->worker;
    union turn_addr client = {0};
    struct stream_conn *c;
    int slot = -1;

    memcpy(&client, sa, (size_t)salen < sizeof(client) ? (size_t)salen : sizeof(client));
    turn_addr_canonical(&client);
    if (!w->env->proxy_from.n || !proxy_v2_trusted(&w->env->proxy_from, &client)) {
        slot = conn_limit_take(w->env->conn_limit, &client);
        if (slot < 0) {
            w->stats.connections_refused++;
            close(fd);
            return;
        }
    }
    c = conn_new(w, fd, &client, sl->tls, slot);
    if (!c) {
        if (slot >= 0) {
            conn_limit_release(w->env->conn_limit, slot);
        }
        close(fd);
        return;
    }
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
