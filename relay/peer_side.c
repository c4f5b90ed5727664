/* The peer side of the packet path: datagrams arriving on an allocation's
 * relay socket, framed in place (ChannelData or Data indication) and sent
 * to its client, a batch per sendmmsg over UDP; and the shortcut for
 * relay-to-relay traffic between two allocations of one worker. */
#include "worker_internal.h"

#include "relay_sock.h"

/* Frames a peer's payload for alloc's client and sends or queues it. */
static void to_client(struct worker *w, struct turn_alloc *alloc, const union turn_addr *peer,
                      uint8_t *data, size_t len, uint64_t now)
{
    struct client_link *link = alloc->tuple.conn;

    if (turn_server_on_peer(w->turn, alloc, peer, &data, &len, now) != TURN_FORWARD) {
        return;
    }
    if (link->kind == CLIENT_STREAM) {
        stream_send((struct stream_conn *)link, data, len);
    } else {
        udp_path_queue(w, &alloc->tuple, data, len);
    }
}

void peer_path_cb(evutil_socket_t fd, short what, void *arg)
{
    struct turn_relay *r = arg;
    struct worker *w = r->worker;
    int n, batches = 0;

    do {
        n = worker_recv_batch(w, fd);
        uint64_t now = worker_clock().mono;
        for (int i = 0; i < n; i++) {
            turn_addr_canonical(&w->in.addr[i]);
            to_client(w, r->alloc, &w->in.addr[i], worker_buf(w, (unsigned)i) + TURN_HEADROOM,
                      w->in.msgs[i].msg_len, now);
        }
        out_queue_flush(&w->out);
    } while (n == BATCH && ++batches < MAX_BATCHES);
}

/* When both ends of a relayed packet are allocations of this worker, the
 * kernel would carry it from one relay socket to the other only to hand it
 * back: deliver it directly instead, as coming from the sender's relayed
 * address, through the same permission and channel checks. */
void peer_path_forward(struct worker *w, const struct turn_forward *fwd, uint8_t *data,
                       uint64_t now)
{
    struct turn_relay *dst = worker_local_relay(w, &fwd->peer);

    if (!dst) {
        /* data is in this batch's receive buffer, valid until the flush */
        out_queue_add(&w->out, fwd->relay->fd, NULL, NULL, &fwd->peer, data, fwd->len);
        return;
    }
    w->stats.relayed_in_worker++;
    to_client(w, dst->alloc, &fwd->relay->alloc->relayed, data, fwd->len, now);
}
