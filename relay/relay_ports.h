/* Which relay ports blindrelay holds right now, per family: a bitmap shared
 * by all workers (atomic bits). The peer policy asks it so that the
 * relay-to-relay exception reaches only our own relay sockets, never
 * another service that happens to listen inside the relay range. */
#ifndef RELAY_RELAY_PORTS_H
#define RELAY_RELAY_PORTS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "turn/addr.h"

struct relay_ports {
    _Atomic uint64_t bits[2][65536 / 64]; /* [IPv4, IPv6][port] */
};

/* Marks the port of a (bound relay socket address) held or free. */
void relay_ports_mark(struct relay_ports *ports, const union turn_addr *a, bool held);

/* Whether the port of a is one of our relay sockets. Signature fits
 * turn_policy_set_relay_oracle. */
bool relay_ports_held(const void *ports, const union turn_addr *a);

/* How many ports of a family (AF_INET, AF_INET6) are held, for /metrics. */
uint64_t relay_ports_count(const struct relay_ports *ports, int family);

#endif
