/* blindrelay-bench: the receive side of the event loop. Every datagram or
 * stream frame is classified by its first byte (RFC 7983): STUN goes to the
 * client's transaction, ChannelData (or a raw forwarder frame) to the mode's
 * data callback. */
#include "bench_client.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "turn/frame.h"
#include "turn/stun_msg.h"

#define BC_EVENTS 256
#define BC_RAW_HDR 4

/* now: monotonic, for the control plane; rx_ns: arrival, for latency */
static void bc_dispatch(struct bc_client *c, uint8_t *buf, size_t len, uint64_t now, uint64_t rx_ns)
{
    struct bc_ctx *ctx = c->ctx;
    uint16_t ch, plen;
    size_t flen;

    if (ctx->o->raw) {
        if (len >= BC_RAW_HDR && buf[0] == 2) {
            if (ctx->h.data_cb) { /* none during a teardown */
                ctx->h.data_cb(c, buf + BC_RAW_HDR, len - BC_RAW_HDR, rx_ns, ctx->h.arg);
            }
        } else if (len >= BC_RAW_HDR && buf[0] == 1) {
            bc_op_input(c, buf, len, now);
        } else {
            ctx->st.garbage++;
        }
        return;
    }
    switch (stun_classify(buf, len, true)) {
    case STUN_PKT_STUN:
        bc_op_input(c, buf, len, now);
        break;
    case STUN_PKT_CHANNEL_DATA:
        if (turn_channel_decode(buf, len, false, &ch, &plen, &flen) == 0 && ctx->h.data_cb) {
            ctx->h.data_cb(c, buf + TURN_CHANNEL_HEADER_LEN, plen, rx_ns, ctx->h.arg);
        } else {
            ctx->st.garbage++;
        }
        break;
    default:
        ctx->st.garbage++;
    }
}

/* The kernel's receive timestamp (SO_TIMESTAMPNS), or the time now. */
static uint64_t bc_rx_stamp(const struct msghdr *h)
{
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR((struct msghdr *)h, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec ts;

            memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
            return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
        }
    }
    return bc_wall_ns();
}

static void bc_udp_readable(struct bc_client *c, uint64_t *now)
{
    struct bc_ctx *ctx = c->ctx;
    struct mmsghdr m[BC_BATCH];
    struct iovec iov[BC_BATCH];
    union {
        char buf[CMSG_SPACE(sizeof(struct timespec))];
        struct cmsghdr align;
    } ctl[BC_BATCH];

    for (int round = 0; round < 8; round++) {
        int n;

        memset(m, 0, sizeof(m));
        for (unsigned i = 0; i < BC_BATCH; i++) {
            iov[i].iov_base = ctx->rxbuf[i];
            iov[i].iov_len = BC_PKT_BUF;
            m[i].msg_hdr.msg_iov = &iov[i];
            m[i].msg_hdr.msg_iovlen = 1;
            m[i].msg_hdr.msg_control = ctl[i].buf;
            m[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
        }
        n = recvmmsg(c->fd, m, BC_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) {
            return;
        }
        *now = bc_now_ns();
        for (int i = 0; i < n && c->fd >= 0; i++) {
            bc_dispatch(c, ctx->rxbuf[i], m[i].msg_len, *now, bc_rx_stamp(&m[i].msg_hdr));
        }
        if (n < BC_BATCH || c->fd < 0) {
            return;
        }
    }
}

/* Consumes whole frames from the reassembly buffer. Returns -1 on garbage. */
static int bc_tcp_frames(struct bc_client *c, uint64_t now)
{
    struct bc_tcp *t = c->tcp;
    size_t off = 0;

    while (c->tcp == t) {
        uint8_t *f = t->rbuf + off;
        size_t n;
        int r = turn_frame_len(f, t->rlen - off, true, &n);

        if (r == -EBADMSG) {
            return -1;
        }
        if (r != 0 || n > t->rlen - off) {
            break;
        }
        if (stun_classify(f, n, true) == STUN_PKT_STUN) {
            bc_op_input(c, f, n, now);
        } else if (c->ctx->h.data_cb) {
            c->ctx->h.data_cb(c, f + TURN_CHANNEL_HEADER_LEN, (size_t)f[2] << 8 | f[3],
                              bc_wall_ns(), c->ctx->h.arg);
        }
        off += n;
    }
    if (c->tcp == t && off > 0) {
        memmove(t->rbuf, t->rbuf + off, t->rlen - off);
        t->rlen -= off;
    }
    return 0;
}

static void bc_tcp_readable(struct bc_client *c, uint64_t *now)
{
    for (int round = 0; round < 8 && c->tcp; round++) {
        struct bc_tcp *t = c->tcp;
        ssize_t n = recv(c->fd, t->rbuf + t->rlen, sizeof(t->rbuf) - t->rlen, MSG_DONTWAIT);

        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            c->ctx->st.tcp_closed++;
            c->result = -ECONNRESET;
            bc_client_close(c);
            return;
        }
        if (n < 0) {
            return;
        }
        t->rlen += (size_t)n;
        *now = bc_now_ns();
        if (bc_tcp_frames(c, *now) != 0) {
            c->ctx->st.garbage++;
            bc_client_close(c);
            return;
        }
    }
}

int bc_ctx_poll(struct bc_ctx *ctx, int timeout_ms, uint64_t *now)
{
    struct epoll_event ev[BC_EVENTS];
    int n = epoll_wait(ctx->epfd, ev, BC_EVENTS, timeout_ms);

    *now = bc_now_ns();
    if (n < 0) {
        return errno == EINTR ? 0 : -errno;
    }
    for (int i = 0; i < n; i++) {
        struct bc_client *c = ev[i].data.ptr;

        if (!c) {
            uint64_t exp;

            if (read(ctx->tfd, &exp, sizeof(exp)) > 0) {
                ctx->ticked = true;
            }
            continue;
        }
        if (c->fd < 0) {
            continue;
        }
        if (c->tcp && (ev[i].events & EPOLLOUT)) {
            bc_tcp_flush(c);
        }
        if (c->tcp) {
            bc_tcp_readable(c, now);
        } else {
            bc_udp_readable(c, now);
        }
    }
    return n;
}
