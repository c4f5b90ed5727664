/* The peer side of the packet path: a peer's payload framed in place
 * (ChannelData or Data indication) for its allocation's client; a client's
 * payload queued on its allocation's relay socket for the peer; and the
 * shortcut for relay-to-relay traffic between two allocations of one
 * worker. */
#include "peer_side.h"

#include "client_stream.h"
#include "client_udp.h"
#include "relay_socket.h"

/* Frames a peer's payload in place for alloc's client and sends or
 * queues it. */
static void to_client(struct worker *w, struct turn_alloc *alloc, const union turn_addr *peer,
                      uint8_t *data, size_t len, uint64_t now)
{
    struct client_link *link = alloc->tuple.conn;

    if (turn_server_on_peer(w->turn, alloc, peer, &data, &len, now) != TURN_FORWARD) {
        return;
    }
    if (link->kind == CLIENT_STREAM) {
        client_stream_send((struct stream_conn *)link, data, len);
    } else {
        client_udp_queue(w, &alloc->tuple, data, len);
    }
}

void peer_side_batch(struct worker *w, struct turn_alloc *alloc, int n)
{
    uint64_t now = worker_clock().mono;

    for (int i = 0; i < n; i++) {
        turn_addr_canonical(&w->in.addr[i]);
        to_client(w, alloc, &w->in.addr[i], worker_buf(w, (unsigned)i) + TURN_HEADROOM,
                  w->in.msgs[i].msg_len, now);
    }
}

/* When both ends of a relayed packet are allocations of this worker, the
 * kernel would carry it from one relay socket to the other only to hand it
 * back: deliver it directly instead, as coming from the sender's relayed
 * address, through the same permission and channel checks. */
void peer_side_forward(struct worker *w, const struct turn_forward *fwd, uint8_t *data,
                       uint64_t now)
{
    struct turn_relay *dst = relay_socket_local(w, &fwd->peer);

    if (!dst) {
        out_queue_add(&w->out, fwd->relay->fd, NULL, NULL, &fwd->peer, data, fwd->len);
        return;
    }
    w->stats.relayed_in_worker++;
    to_client(w, dst->alloc, &fwd->relay->alloc->relayed, data, fwd->len, now);
}
