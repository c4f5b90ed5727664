/* The client side over UDP: the worker's listening sockets, datagrams
 * from clients (requests, ChannelData, Send indications) in batches,
 * answers to them, and framed peer data queued for them. */
#include "client_udp.h"

#include <errno.h>
#include <unistd.h>

#include "peer_side.h"

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
        peer_side_forward(w, &fwd, (uint8_t *)fwd.data, now.mono);
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
        out_queue_flush(&w->out);
    } while (n == BATCH && ++batches < MAX_BATCHES);
}

int client_udp_open(struct worker *w, struct udp_listener *l, const union turn_addr *addr)
{
    int fd = udp_listen(addr);

    if (fd < 0) {
        return fd;
    }
    l->link.kind = CLIENT_UDP;
    l->fd = fd;
    l->addr = *addr;
    l->wildcard = turn_addr_is_wildcard(addr);
    l->worker = w;
    event_assign(&l->ev, w->base, fd, EV_READ | EV_PERSIST, listener_cb, l);
    return event_add(&l->ev, NULL) < 0 ? -ENOMEM : 0;
}

void client_udp_close(struct udp_listener *l)
{
    event_del(&l->ev);
    close(l->fd);
}

void client_udp_queue(struct worker *w, const struct turn_tuple *tuple, uint8_t *data, size_t len)
{
    const struct udp_listener *l = (const struct udp_listener *)tuple->conn;

    out_queue_add(&w->out, l->fd, l->wildcard ? &l->addr : NULL, &tuple->server, &tuple->client,
                  data, len);
}
