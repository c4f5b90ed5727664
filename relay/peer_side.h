/* The peer side: a peer's datagram framed in place for the allocation's
 * client and sent (UDP: the out queue; TCP/TLS: the connection), and a
 * client's payload sent to its peer from the allocation's relay socket
 * through the out queue, or handed over directly when the peer is another
 * allocation of this worker. */
#ifndef RELAY_PEER_SIDE_H
#define RELAY_PEER_SIDE_H

#include "worker_internal.h"

/* The first n datagrams of w's receive batch, read from alloc's relay
 * socket: each peer's payload framed in place for alloc's client and sent
 * (stream) or queued (UDP; the caller flushes the out queue). */
void peer_side_batch(struct worker *w, struct turn_alloc *alloc, int n);

/* A client's payload for a peer: when the peer is another allocation's
 * relayed address in this worker, it is handed over in place (the kernel
 * would only loop it back); otherwise it is queued on the relay socket.
 * data holds fwd->len bytes, writable, with TURN_HEADROOM before it and
 * TURN_TAILROOM after, and must stay in place until the out queue's flush. */
void peer_side_forward(struct worker *w, const struct turn_forward *fwd, uint8_t *data,
                       uint64_t now);

#endif
