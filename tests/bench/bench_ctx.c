/* blindrelay-bench: client sockets and the event loop. UDP sockets are
 * connected to the server (so each client is one 5-tuple) and drained with
 * recvmmsg; TCP sockets carry RFC 8656 stream framing through a reassembly
 * buffer and a bounded output queue. */
#include "bench_client.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "turn/stun_msg.h"

#define BC_SOCKBUF (4 * 1024 * 1024)
#define BC_PER_SOURCE 20000 /* clients per loopback source address */

int bc_ctx_init(struct bc_ctx *ctx, const struct bc_opts *o)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->o = o;
    ctx->tfd = -1;
    /* servers cap TCP connections per client address (blindrelay: 32) */
    ctx->rotate_src = o->tcp;
    ctx->epfd = epoll_create1(EPOLL_CLOEXEC);
    ctx->rxbuf = calloc(BC_BATCH, BC_PKT_BUF);
    if (ctx->epfd < 0 || !ctx->rxbuf) {
        return -errno;
    }
    return 0;
}

void bc_ctx_free(struct bc_ctx *ctx)
{
    if (ctx->epfd >= 0) {
        close(ctx->epfd);
    }
    if (ctx->tfd >= 0) {
        close(ctx->tfd);
    }
    free(ctx->rxbuf);
    tcl_cred_clear(&ctx->cred);
}

int bc_ctx_ticker(struct bc_ctx *ctx, uint64_t period_ns)
{
    struct itimerspec its = {
        .it_interval = {.tv_sec = 0, .tv_nsec = (long)period_ns},
        .it_value = {.tv_sec = 0, .tv_nsec = (long)period_ns},
    };
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};

    ctx->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (ctx->tfd < 0 || timerfd_settime(ctx->tfd, 0, &its, NULL) != 0 ||
        epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, ctx->tfd, &ev) != 0) {
        return -errno;
    }
    return 0;
}

void bc_raise_nofile(unsigned n)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= n) {
        return;
    }
    rl.rlim_cur = n;
    if (rl.rlim_max < n) {
        rl.rlim_max = n; /* root may raise the hard limit */
    }
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void bc_set_bufs(int fd)
{
    int v = BC_SOCKBUF;

    /* SO_*BUFFORCE passes net.core.*mem_max when root; else best effort */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) != 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
    }
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) != 0) {
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
    }
}

/* Source address for c. Past ~28k ephemeral ports, more loopback source
 * addresses give more 5-tuples. In churn and over TCP every socket gets the
 * next of 127.1-254.1-254.1: a server that keeps a released 5-tuple's
 * session for a while (coturn answers 437) must not see the same tuple
 * again soon, and per-address TCP connection caps must not bite. */
static struct in_addr bc_source(struct bc_ctx *ctx, const struct bc_client *c)
{
    uint32_t n = ctx->rotate_src ? ctx->src_seq++ % (254u * 254u) : 0;
    struct in_addr a;

    if (ctx->rotate_src) {
        a.s_addr = htonl(0x7f000001u | (1u + n / 254u) << 16 | (1u + n % 254u) << 8);
    } else {
        a.s_addr = htonl(0x7f000001u + (c->id / BC_PER_SOURCE << 8));
    }
    return a;
}

/* --one-address: every socket on 127.0.0.2 (the server's 127.0.0.1 is
 * another address of the same /24, as a NAT's clients share one), the port
 * the next free one of 1024-65535 in turn, so a 5-tuple comes back only
 * after 64k others (coturn keeps a released tuple's session a while). */
static int bc_bind_one(struct bc_ctx *ctx, int fd)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000002u)};

    for (unsigned tries = 0; tries < 1024; tries++) {
        a.sin_port = htons((uint16_t)(1024u + ctx->port_seq++ % (65536u - 1024u)));
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
            return 0;
        }
        if (errno != EADDRINUSE) {
            return -errno;
        }
    }
    return -EADDRINUSE;
}

static int bc_connect(struct bc_ctx *ctx, struct bc_client *c, bool big)
{
    const union turn_addr *srv = &ctx->o->server;
    int type = ctx->o->tcp ? SOCK_STREAM : SOCK_DGRAM;
    int one = 1;

    c->fd = socket(srv->sa.sa_family, type | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        return -errno;
    }
    if (big) {
        bc_set_bufs(c->fd);
    }
    if (ctx->o->one_address) {
        int err = bc_bind_one(ctx, c->fd);

        if (err) {
            return err;
        }
    } else if (srv->sa.sa_family == AF_INET && (ctx->rotate_src || c->id >= BC_PER_SOURCE)) {
        if (bind(c->fd,
                 (struct sockaddr *)&(struct sockaddr_in){.sin_family = AF_INET,
                                                          .sin_addr = bc_source(ctx, c)},
                 sizeof(struct sockaddr_in)) != 0) {
            return -errno;
        }
    }
    if (ctx->o->tcp) {
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    } else {
        setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
    }
    /* blocking connect: instant on loopback, and bounded by the kernel */
    if (connect(c->fd, &srv->sa, turn_addr_len(srv)) != 0 ||
        fcntl(c->fd, F_SETFL, O_NONBLOCK) != 0) {
        return -errno;
    }
    return 0;
}

int bc_client_open(struct bc_ctx *ctx, struct bc_client *c, unsigned id, bool big)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    int err;

    memset(c, 0, sizeof(*c));
    c->ctx = ctx;
    c->id = id;
    if (ctx->o->tcp) {
        c->tcp = malloc(sizeof(*c->tcp));
        if (!c->tcp) {
            return -ENOMEM;
        }
        c->tcp->rlen = c->tcp->qoff = c->tcp->qlen = 0;
        c->tcp->want_out = false;
    }
    err = bc_connect(ctx, c, big);
    if (err == 0 && epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        err = -errno;
    }
    if (err) {
        bc_client_close(c);
    }
    return err;
}

void bc_client_close(struct bc_client *c)
{
    if (c->fd > 0) {
        if (c->tcp) {
            struct linger l = {.l_onoff = 1, .l_linger = 0};

            setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
        }
        close(c->fd); /* also leaves the epoll set */
    }
    c->fd = -1;
    free(c->tcp);
    c->tcp = NULL;
}

static void bc_want_out(struct bc_client *c, bool on)
{
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};

    if (c->tcp->want_out != on) {
        c->tcp->want_out = on;
        epoll_ctl(c->ctx->epfd, EPOLL_CTL_MOD, c->fd, &ev);
    }
}

void bc_tcp_flush(struct bc_client *c)
{
    struct bc_tcp *t = c->tcp;

    while (t->qoff < t->qlen) {
        ssize_t n = send(c->fd, t->q + t->qoff, t->qlen - t->qoff, MSG_NOSIGNAL);

        if (n <= 0) {
            break;
        }
        t->qoff += (size_t)n;
    }
    if (t->qoff == t->qlen) {
        t->qoff = t->qlen = 0;
    } else if (t->qoff > BC_STREAM_TX / 2) {
        memmove(t->q, t->q + t->qoff, t->qlen - t->qoff);
        t->qlen -= t->qoff;
        t->qoff = 0;
    }
    bc_want_out(c, t->qlen > 0);
}

/* A frame is queued whole or dropped whole, so the stream stays framed. */
static int bc_tcp_send(struct bc_client *c, const uint8_t *buf, size_t len)
{
    struct bc_tcp *t = c->tcp;
    size_t done = 0;

    if (t->qlen == 0) {
        ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);

        if (n < 0 && errno != EAGAIN) {
            return -errno;
        }
        done = n > 0 ? (size_t)n : 0;
        if (done == len) {
            return 0;
        }
    } else if (BC_STREAM_TX - t->qlen < len) {
        return -ENOBUFS;
    }
    memcpy(t->q + t->qlen, buf + done, len - done);
    t->qlen += len - done;
    bc_want_out(c, true);
    return 0;
}

int bc_client_send(struct bc_client *c, const uint8_t *buf, size_t len)
{
    if (c->fd < 0) {
        return -EBADF;
    }
    if (c->tcp) {
        return bc_tcp_send(c, buf, len);
    }
    return send(c->fd, buf, len, 0) == (ssize_t)len ? 0 : -errno;
}

unsigned bc_client_sendmmsg(struct bc_client *c, struct iovec *iov, unsigned n)
{
    struct mmsghdr m[BC_BATCH];
    unsigned done = 0;

    while (done < n) {
        unsigned k = n - done < BC_BATCH ? n - done : BC_BATCH;
        int r;

        memset(m, 0, sizeof(m[0]) * k);
        for (unsigned i = 0; i < k; i++) {
            m[i].msg_hdr.msg_iov = &iov[done + i];
            m[i].msg_hdr.msg_iovlen = 1;
        }
        r = sendmmsg(c->fd, m, k, 0);
        if (r <= 0) {
            break;
        }
        done += (unsigned)r;
    }
    return done;
}
