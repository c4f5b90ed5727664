/* The client side over UDP: one SO_REUSEPORT listening socket per listen
 * address in each worker; datagrams from clients go to the TURN server in
 * batches, answers go straight back, framed peer data waits in the
 * worker's out queue. */
#ifndef RELAY_CLIENT_UDP_H
#define RELAY_CLIENT_UDP_H

#include "worker_internal.h"

/* Opens l on addr in w's loop. Returns 0 or a negative errno. */
int client_udp_open(struct worker *w, struct udp_listener *l, const union turn_addr *addr);
void client_udp_close(struct udp_listener *l);
/* Queues a framed message for a UDP client (flushing first when full).
 * Borrows data until the out queue's flush. */
void client_udp_queue(struct worker *w, const struct turn_tuple *tuple, uint8_t *data, size_t len);

#endif
