/* The client side over TCP and TLS: listeners, connections on
 * bufferevents, frames cut from the stream, framed peer data written back
 * to the connection. The allocation belongs to the connection. */
#ifndef RELAY_CLIENT_STREAM_H
#define RELAY_CLIENT_STREAM_H

#include "worker_internal.h"

/* Listens on addr (TLS when tls) in w's loop. Returns 0 or a negative errno. */
int client_stream_listen(struct worker *w, struct stream_listener *sl, const union turn_addr *addr,
                         bool tls);
void client_stream_unlisten(struct stream_listener *sl);
/* Queues a framed message for a stream client (copied); drops it (counted)
 * when the client's queue is over the stream-buffer limit. */
void client_stream_send(struct stream_conn *c, const uint8_t *data, size_t len);
/* Closes connections past their deadline or whose allocation ended. */
void client_stream_tick(struct worker *w);
/* Closes every connection of the worker (shutdown). */
void client_stream_close_all(struct worker *w);

#endif
