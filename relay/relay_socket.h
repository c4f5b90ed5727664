/* Relay sockets, whole life: the UDP socket an allocation relays through,
 * bound to a port from the relay range (or taken from a reservation), its
 * options, its event in the worker's loop, the reading of its peers'
 * datagrams in batches, and its closing, which gives the port back. */
#ifndef RELAY_RELAY_SOCKET_H
#define RELAY_RELAY_SOCKET_H

#include <event2/event.h>
#include <event2/event_struct.h>

#include "turn/server.h"

struct worker;

struct turn_relay {
    int fd;
    struct event ev; /* embedded: no allocation per socket beyond this struct */
    struct turn_alloc *alloc;
    struct worker *worker;
    union turn_addr bound;
};

/* Binds a UDP socket on ip with a port from [port_min, port_max] (random
 * start, every port tried at most once; even ports only with
 * TURN_RELAY_EVEN_PORT). With TURN_RELAY_RESERVE_NEXT the port is even and
 * port + 1 is bound too, on *next_fd. Returns the fd, or -EADDRINUSE when
 * the range is full, or another negative errno. */
int relay_socket_bind(const union turn_addr *ip, uint16_t port_min, uint16_t port_max,
                      unsigned flags, union turn_addr *bound, int *next_fd);

/* The open and close callbacks through which w's turn_server gets and
 * gives back relay sockets. */
struct turn_relay_ops relay_socket_ops(struct worker *w);

/* The relay socket of w whose advertised address is a, or NULL. */
struct turn_relay *relay_socket_local(struct worker *w, const union turn_addr *a);

#endif
