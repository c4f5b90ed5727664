/* TURN over UDP: the listening sockets and the client side of the packet
 * path (requests, ChannelData and Send indications from clients). */
#include "worker_internal.h"

#include <errno.h>
#include <netinet/udp.h>
#include <string.h>
#include <unistd.h>

/* To a client, from the local address it used (a wildcard listener needs
 * packet info for that). */
static void send_reply(const struct udp_listener *l, const void *data, size_t len,
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

static void on_datagram(struct worker *w, struct udp_listener *l, unsigned i, struct turn_clock now)
{
    struct turn_tuple tuple = {
        .client = w->in.addr[i], .transport = TURN_TRANSPORT_UDP, .conn = &l->link};
    struct turn_reply reply = {.buf = w->reply};
    struct turn_forward fwd;
    const struct msghdr *hdr = &w->in.msgs[i].msg_hdr;

    if (hdr->msg_flags & MSG_TRUNC) {
        turn_server_stats(w->turn)->dropped[TURN_DROP_MALFORMED]++;
        return;
    }
    udp_local_addr(hdr, &l->addr, &tuple.server);
    switch (turn_server_on_client(w->turn, &tuple, worker_buf(w, i) + TURN_HEADROOM,
                                  w->in.msgs[i].msg_len, now, &reply, &fwd)) {
    case TURN_REPLY:
        send_reply(l, reply.buf, reply.len, &tuple);
        break;
    case TURN_FORWARD:
        /* fwd.data points into our own receive buffer */
        peer_path_forward(w, &fwd, (uint8_t *)fwd.data, now.mono);
        break;
    case TURN_DROP:
        break;
    }
}

static void listener_cb(evutil_socket_t fd, short what, void *arg)
{
    struct udp_listener *l = arg;
    struct worker *w = l->worker;
    int n, batches = 0;

    do {
        n = worker_recv_batch(w, fd);
        struct turn_clock now = worker_clock();
        for (int i = 0; i < n; i++) {
            on_datagram(w, l, (unsigned)i, now);
        }
        udp_path_flush(w);
    } while (n == BATCH && ++batches < MAX_BATCHES);
}

int udp_path_open(struct worker *w, struct udp_listener *l, const union turn_addr *addr)
{
    int fd = udp_listen(addr);

    if (fd < 0) {
        return fd;
    }
    l->link.kind = CLIENT_UDP;
    l->fd = fd;
    l->addr = *addr;
    l->worker = w;
    event_assign(&l->ev, w->base, fd, EV_READ | EV_PERSIST, listener_cb, l);
    return event_add(&l->ev, NULL) < 0 ? -ENOMEM : 0;
}

void udp_path_close(struct udp_listener *l)
{
    event_del(&l->ev);
    close(l->fd);
}

/* Whether a datagram of len bytes for tuple can join message k. */
static bool joins(const struct out_queue *q, unsigned k, const struct udp_listener *l,
                  const struct turn_tuple *tuple, size_t len)
{
    const struct msghdr *h = &q->msgs[k].msg_hdr;
    const struct iovec *last = &h->msg_iov[h->msg_iovlen - 1];

    return q->via[k] == l && last->iov_len == q->seg[k] && len <= q->seg[k] &&
           h->msg_iovlen < GSO_MAX_SEGMENTS && q->bytes[k] + len <= GSO_MAX_BYTES &&
           turn_addr_equal(&q->to[k], &tuple->client) &&
           turn_addr_equal(&q->from[k], &tuple->server);
}

void udp_path_queue(struct worker *w, const struct turn_tuple *tuple, uint8_t *data, size_t len)
{
    struct out_queue *q = &w->out;
    const struct udp_listener *l = (const struct udp_listener *)tuple->conn;
    unsigned k;

    if (q->n_iov == BATCH) {
        udp_path_flush(w);
    }
    q->iov[q->n_iov] = (struct iovec){data, len};
    if (w->gso && q->n > 0 && joins(q, q->n - 1, l, tuple, len)) {
        k = q->n - 1;
        q->msgs[k].msg_hdr.msg_iovlen++;
        q->bytes[k] += len;
        q->n_iov++;
        return;
    }
    k = q->n++;
    q->to[k] = tuple->client;
    q->from[k] = tuple->server;
    q->via[k] = l;
    q->seg[k] = (uint16_t)len;
    q->bytes[k] = len;
    q->msgs[k].msg_hdr = (struct msghdr){
        .msg_name = &q->to[k],
        .msg_namelen = turn_addr_len(&tuple->client),
        .msg_iov = &q->iov[q->n_iov++],
        .msg_iovlen = 1,
    };
}

/* Packet info when the listener is a wildcard; the segment size when the
 * message holds more than one datagram. */
static void set_control(struct out_queue *q, unsigned k)
{
    struct msghdr *h = &q->msgs[k].msg_hdr;
    union udp_control info;
    size_t len = udp_source_control(&info, &q->via[k]->addr, &q->from[k]);

    memcpy(q->ctl[k].buf, info.buf, len);
    if (h->msg_iovlen > 1) {
        struct cmsghdr *c = (struct cmsghdr *)(q->ctl[k].buf + len);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        memcpy(CMSG_DATA(c), &q->seg[k], sizeof(uint16_t));
        len += CMSG_SPACE(sizeof(uint16_t));
    }
    h->msg_control = len ? q->ctl[k].buf : NULL;
    h->msg_controllen = len;
}

/* Message k was refused as a whole: its datagrams go one by one. A kernel
 * or device without UDP GSO turns it off for this worker. */
static void send_apart(struct worker *w, unsigned k, int err)
{
    struct out_queue *q = &w->out;
    struct msghdr h = q->msgs[k].msg_hdr;
    const struct iovec *iov = h.msg_iov;
    size_t n = h.msg_iovlen;

    if (err == EIO || err == ENOPROTOOPT || err == EOPNOTSUPP) {
        w->gso = false;
    }
    h.msg_iovlen = 1;
    q->msgs[k].msg_hdr.msg_iovlen = 1;
    set_control(q, k);
    h.msg_control = q->msgs[k].msg_hdr.msg_control;
    h.msg_controllen = q->msgs[k].msg_hdr.msg_controllen;
    for (size_t i = 0; i < n; i++) {
        h.msg_iov = (struct iovec *)&iov[i];
        (void)sendmsg(q->via[k]->fd, &h, MSG_DONTWAIT);
    }
}

/* One sendmmsg per run of messages for the same socket (usually one run:
 * a worker has one listening socket per address). A datagram the kernel
 * refuses is lost like on the network; the rest of the run still goes. */
void udp_path_flush(struct worker *w)
{
    struct out_queue *q = &w->out;
    unsigned start = 0;

    for (unsigned k = 0; k < q->n; k++) {
        set_control(q, k);
    }
    while (start < q->n) {
        unsigned end = start + 1;
        int fd = q->via[start]->fd;
        while (end < q->n && q->via[end]->fd == fd) {
            end++;
        }
        while (start < end) {
            int sent = sendmmsg(fd, &q->msgs[start], end - start, MSG_DONTWAIT);
            if (sent > 0) {
                start += (unsigned)sent;
                continue;
            }
            if (q->msgs[start].msg_hdr.msg_iovlen > 1) {
                send_apart(w, start, errno);
            }
            start++;
        }
    }
    q->n = 0;
    q->n_iov = 0;
}
